"""What a service is as a project: library or application, its Pythons, locks, test deps and test command.

Everything is read statically (tomllib, configparser, YAML nodes, `ast` literals, regular expressions);
no file of the fleet is imported or run. A file that cannot be read becomes a Finding naming the file and
the fix, and the rest of the project is still read.

Library or application (`kind`), decided conservatively: a library only when the project says it is
built, and looks published:
- built: a `pyproject.toml` with a `[build-system]` and a `[project] name`; or a `[tool.poetry] name`
  with a Poetry build backend in `[build-system]`; or a `setup.py` calling `setup()` with `name`,
  `packages` or `py_modules`; or a `setup.cfg` with `[metadata] name` or `[options] packages`;
- published: metadata written for an index (classifiers, a license, project URLs / homepage /
  repository, or keywords), and nothing saying it is not: no `package-mode = false` (Poetry), no
  `[tool.uv] package = false`, no `[tool.pdm] distribution = false`, no `Private :: Do Not Upload`
  classifier, and no runtime dependency pinned to one exact release (`==1.2.3`, or a bare `1.2.3` in
  Poetry): a published library cannot pin its users that way, a deployed application does.
Everything else (requirements files, Pipfile, a pyproject without a build system or without index
metadata) is an application.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fleetshift.model import Finding, Project, ProjectKind
from fleetshift.project._files import Reader, dig
from fleetshift.project.locks import read_locks
from fleetshift.project.pythons import read_pythons, read_setup_py
from fleetshift.project.testing import read_test_command, read_test_deps, runner_of

__all__ = ["DOC_TOOLS", "is_doc_tool", "is_real_project", "read_project", "runner_of"]

PRIVATE_CLASSIFIER = "Private :: Do Not Upload"

# packages that only build documentation: a folder whose manifests pin nothing else is a docs folder
DOC_TOOLS = frozenset({
    "sphinx", "mkdocs", "furo", "myst-parser", "myst-nb", "nbsphinx", "recommonmark", "docutils", "pdoc", "pdoc3",
    "breathe", "numpydoc", "alabaster", "jupyter-book", "mike", "griffe", "pymdown-extensions", "markdown",
    "pydata-sphinx-theme", "sphinx-rtd-theme", "sphinx-book-theme", "sphinx-material", "shibuya", "piccolo-theme",
    "readthedocs-sphinx-search", "readthedocs-sphinx-ext", "autodocsumm", "towncrier", "jinja2", "pygments",
    "linkify-it-py", "sphinx-click", "sphinx-autobuild", "docstring-parser",
})
_DOC_PREFIXES = ("sphinx-", "sphinxcontrib-", "sphinxext-", "mkdocs-", "mkdocstrings", "mkdocs_", "sphinx_")


def is_doc_tool(package: str) -> bool:
    """True for a (canonical) package name that only builds documentation."""
    return package in DOC_TOOLS or package.startswith(_DOC_PREFIXES)


def is_real_project(root: Path, folder: str) -> bool:
    """Does the folder hold a project of its own: a pyproject.toml with `[project]` or `[tool.poetry]`
    (a broken one counts: it is meant to be one), a setup.py, a setup.cfg with `[metadata]` or
    `[options]`, a requirements.txt or a Pipfile? (A pyproject holding only tool settings, or only
    requirements-dev.txt, is not.)"""
    r = Reader(root, folder)
    if r.exists("setup.py") or r.exists("requirements.txt") or r.exists("Pipfile"):
        return True
    if r.exists("pyproject.toml"):
        data = r.toml("pyproject.toml", report=False)
        if data is None or "project" in data or isinstance(dig(data, "tool", "poetry"), dict):
            return True
    if r.exists("setup.cfg"):
        text = r.text("setup.cfg") or ""
        if re.search(r"^\[(metadata|options)\]", text, re.M):
            return True
    return False


def _kind(pyproject: dict[str, Any] | None, setup_cfg: Any, setup_py: dict[str, Any]) -> tuple[ProjectKind, str, str]:
    """(kind, distribution name, build backend) by the rule in the module docstring."""
    data = pyproject or {}
    build = data.get("build-system") if isinstance(data.get("build-system"), dict) else {}
    backend = build.get("build-backend", "") if isinstance(build.get("build-backend", ""), str) else ""
    project = data.get("project") if isinstance(data.get("project"), dict) else {}
    poetry = dig(data, "tool", "poetry") if isinstance(dig(data, "tool", "poetry"), dict) else {}
    name = ""
    built = False
    if isinstance(project.get("name"), str):
        name = project["name"]
        built = bool(build)
    if isinstance(poetry.get("name"), str):
        name = name or poetry["name"]
        requires = build.get("requires") if isinstance(build.get("requires"), list) else []
        built = built or "poetry" in backend or any("poetry" in str(req) for req in requires)
    if setup_cfg is not None:
        cfg_name = setup_cfg.get("metadata", "name", fallback="").strip()
        if cfg_name or setup_cfg.has_option("options", "packages") or setup_cfg.has_option("options", "py_modules"):
            name = name or cfg_name
            built = True
            backend = backend or "setuptools.build_meta:__legacy__"
    if setup_py.get("setup_call") and (setup_py.get("name") or setup_py.get("packages") or setup_py.get("py_modules")):
        name = name or (setup_py["name"] if isinstance(setup_py.get("name"), str) else "")
        built = True
        backend = backend or "setuptools.build_meta:__legacy__"
    classifiers = [c for src in (project.get("classifiers"), poetry.get("classifiers"), setup_py.get("classifiers"))
                   if isinstance(src, list) for c in src if isinstance(c, str)]
    if setup_cfg is not None:
        classifiers += setup_cfg.get("metadata", "classifiers", fallback="").splitlines()
    metadata = (
        any(k in project for k in ("classifiers", "license", "license-files", "urls", "keywords"))
        or any(k in poetry for k in ("classifiers", "license", "homepage", "repository", "documentation", "keywords", "urls"))
        or any(setup_py.get(k) for k in ("classifiers", "license", "url", "project_urls", "keywords"))
        or (setup_cfg is not None and any(setup_cfg.has_option("metadata", k) for k in
                                          ("classifiers", "license", "url", "project_urls", "keywords", "license_files")))
    )
    private = (
        poetry.get("package-mode") is False
        or dig(data, "tool", "uv", "package") is False
        or dig(data, "tool", "pdm", "distribution") is False
        or any(c.strip().startswith(PRIVATE_CLASSIFIER) for c in classifiers)
        or _pins_exactly(project.get("dependencies"), poetry.get("dependencies"), setup_py.get("install_requires"),
                         setup_cfg.get("options", "install_requires", fallback="").splitlines() if setup_cfg else None)
    )
    kind = ProjectKind.LIBRARY if built and name and metadata and not private else ProjectKind.APPLICATION
    return kind, name, backend


_EXACT_RE = re.compile(r"^[A-Za-z0-9._\[\], -]+===?\s*[0-9][^,;*]*$")


def _pins_exactly(pep621: Any, poetry: Any, setup_py: Any, setup_cfg: Any) -> bool:
    """Does any runtime dependency name exactly one release (`x==1.2.3`; Poetry `x = "1.2.3"`)?"""
    for reqs in (pep621, setup_py, setup_cfg):
        if isinstance(reqs, list):
            for req in reqs:
                if isinstance(req, str) and _EXACT_RE.match(req.split(";", 1)[0].split("#", 1)[0].strip()):
                    return True
    if isinstance(poetry, dict):
        for name, value in poetry.items():
            version = value.get("version") if isinstance(value, dict) else value
            if name != "python" and isinstance(version, str) and re.fullmatch(r"=?=?\s*\d[\w.]*", version.strip()):
                return True
    return False


def read_project(root: Path, folder: str, *, test_command: str = "", python: str = "") -> tuple[Project, list[Finding]]:
    """The Project record of the service in `folder` (fleet-relative, "" for the root), and the files
    that could not be read. `test_command` and `python` come from the config and win over what is found."""
    r = Reader(Path(root), folder)
    pyproject = r.toml("pyproject.toml", report=False)  # the manifest reader reports its syntax errors
    setup_cfg = r.ini("setup.cfg") if r.exists("setup.cfg") else None
    setup_py = read_setup_py(r)
    kind, name, backend = _kind(pyproject, setup_cfg, setup_py)
    project = Project(
        kind=kind,
        name=name,
        build_backend=backend,
        pythons=read_pythons(r, pyproject, setup_cfg, setup_py, python),
        locks=read_locks(r),
        test_deps=read_test_deps(r, pyproject, setup_cfg),
        test_command=read_test_command(r, pyproject, setup_cfg, test_command),
    )
    return project, _unique(r.findings)


def _unique(findings: list[Finding]) -> list[Finding]:
    return list(dict.fromkeys(findings))
