"""Which Pythons a project supports, from every place projects say it.

Ranges (`requires-python`, Poetry's `python`, `python_requires` in setup.cfg or setup.py) make the
specifier; each one names an interval, and the model's `spec` is their intersection. Versions named one
by one (classifiers, `.python-version`, tox `envlist`, GitHub Actions and GitLab CI matrices and images,
Dockerfile `FROM python:X`, Pipfile `python_version`) make `versions`. Nothing is run: TOML, INI and YAML
are parsed, setup.py is read with `ast` (literals only) or a regular expression.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from fleetshift import astparse
from fleetshift.manifests._toml import poetry_to_pep440
from fleetshift.model import PythonDecl, PythonModel
from fleetshift.project._files import (
    Reader,
    dig,
    find_line,
    finding,
    ini_line,
    line,
    mapping,
    scalar,
    scalars,
    sequence,
    toml_line,
)

RANGE_KINDS = ("requires-python", "poetry", "python_requires")
_MINOR_RE = re.compile(r"(?<![\d.])([23])\.(\d{1,2})(?!\d)")
_PRERELEASE_RE = re.compile(r"(-dev|-?alpha|-?beta|-?rc\d*|a\d+|b\d+|t)$", re.I)
_CLASSIFIER_RE = re.compile(r"Programming Language :: Python :: ([23]\.\d{1,2})\s*$")
_FROM_RE = re.compile(r"^\s*FROM\s+(?:--\S+\s+)*(?P<image>\S+)", re.I)
_TOX_FACTOR_RE = re.compile(r"^(?:py|pypy|cpython)?([23])\.?(\d{1,2})$")
_PYTHON_KEY_RE = re.compile(r"^(py|python([-_ ]?versions?)?|python[-_]?ver)$", re.I)


def minor_of(value: str) -> str | None:
    """The "3.X" a version text names ("3.10", "3.12.1", "pypy-3.9", "3.12-slim"); None for "3.x",
    pre-releases ("3.14-dev") and anything else."""
    value = value.strip().strip("'\"")
    m = _MINOR_RE.search(value)
    if not m or value.lower().endswith(("-dev", "-alpha", "-beta")) or re.search(r"\d(a|b|rc)\d+$", value):
        return None
    return f"{m.group(1)}.{int(m.group(2))}"


def _sort_key(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.split("."))


def read_pythons(r: Reader, pyproject: dict[str, Any] | None, setup_cfg: Any, setup_py: dict[str, Any],
                 config_python: str = "") -> PythonModel:
    """The Python model of the service `r` reads."""
    decls: list[PythonDecl] = []
    specs: list[str] = []

    def add_range(decl: PythonDecl, spec: str) -> None:
        decls.append(decl)
        try:
            SpecifierSet(spec)
        except InvalidSpecifier:
            r.findings.append(finding(decl.file, decl.line, "invalid-python-spec",
                                      f"{decl.file}: {decl.kind} {decl.value!r} is not a version specifier; "
                                      'write it as PEP 440, e.g. ">=3.9"'))
            return
        specs.append(spec)

    text = r.text("pyproject.toml")
    project = (pyproject or {}).get("project")
    if isinstance(project, dict) and isinstance(project.get("requires-python"), str):
        value = project["requires-python"]
        add_range(PythonDecl(r.rel("pyproject.toml"), toml_line(text, "project", "requires-python"), "requires-python", value), value)
    poetry = dig(pyproject, "tool", "poetry") or {}
    poetry_python = dig(poetry, "dependencies", "python")
    if isinstance(poetry_python, str):
        decl = PythonDecl(r.rel("pyproject.toml"), toml_line(text, "tool.poetry.dependencies", "python"), "poetry", poetry_python)
        add_range(decl, _poetry_python(poetry_python))
    if setup_cfg is not None and setup_cfg.has_option("options", "python_requires"):
        value = setup_cfg.get("options", "python_requires").strip()
        add_range(PythonDecl(r.rel("setup.cfg"), ini_line(r.text("setup.cfg"), "options", "python_requires"),
                             "python_requires", value), value)
    if isinstance(setup_py.get("python_requires"), str):
        value = setup_py["python_requires"]
        add_range(PythonDecl(r.rel("setup.py"), find_line(r.text("setup.py"), "python_requires"), "python_requires", value), value)

    decls += _classifiers(r, project, poetry, setup_cfg, setup_py)
    pinned = ""
    for i, raw in enumerate(r.lines(".python-version"), 1):
        value = raw.split("#", 1)[0].strip()
        if value:
            decls.append(PythonDecl(r.rel(".python-version"), i, ".python-version", value))
            if not pinned:
                m = re.search(r"\d+\.\d+(\.\d+)?", value)
                pinned = m.group(0) if m else ""
    decls += _pipfile(r)
    decls += _tox_envlist(r, pyproject, setup_cfg)
    decls += _github_actions(r)
    decls += _gitlab_ci(r)
    decls += _dockerfiles(r)

    versions = sorted({v for d in decls if d.kind not in RANGE_KINDS for v in _versions_of(d)}, key=_sort_key)
    spec = ",".join(dict.fromkeys(s for spec in specs for s in _split(spec)))
    return PythonModel(spec=spec, versions=tuple(versions), pinned=config_python or pinned, declarations=tuple(decls))


def _split(spec: str) -> list[str]:
    return [s.strip() for s in spec.split(",") if s.strip()]


def _versions_of(decl: PythonDecl) -> list[str]:
    if decl.kind == "tox-envlist":
        m = _TOX_FACTOR_RE.match(decl.value)
        return [f"{m.group(1)}.{int(m.group(2))}"] if m else []
    v = minor_of(decl.value)
    return [v] if v else []


def _poetry_python(value: str) -> str:
    """Poetry's python constraint as PEP 440; a union ("~2.7 || ^3.5") becomes its lowest floor."""
    try:
        return poetry_to_pep440(value)
    except (InvalidSpecifier, ValueError):
        pass
    floors = []
    for part in re.split(r"\|\|?", value):
        try:
            spec = poetry_to_pep440(part)
        except (InvalidSpecifier, ValueError):
            continue
        floors += [s.version for s in SpecifierSet(spec) if s.operator in (">=", "==", "~=")]
    if floors:
        return ">=" + min(floors, key=lambda v: tuple(int(x) for x in re.findall(r"\d+", v)))
    return value


def _classifiers(r: Reader, project: Any, poetry: Any, setup_cfg: Any, setup_py: dict[str, Any]) -> Iterator[PythonDecl]:
    sources: list[tuple[str, Any]] = []
    if isinstance(project, dict):
        sources.append(("pyproject.toml", project.get("classifiers")))
    if isinstance(poetry, dict):
        sources.append(("pyproject.toml", poetry.get("classifiers")))
    if setup_cfg is not None and setup_cfg.has_option("metadata", "classifiers"):
        sources.append(("setup.cfg", setup_cfg.get("metadata", "classifiers").splitlines()))
    sources.append(("setup.py", setup_py.get("classifiers")))
    for name, values in sources:
        if not isinstance(values, list):
            continue
        text = r.text(name)
        for c in values:
            m = _CLASSIFIER_RE.search(c) if isinstance(c, str) else None
            if m:
                yield PythonDecl(r.rel(name), find_line(text, c.strip()), "classifier", m.group(1))


def _pipfile(r: Reader) -> Iterator[PythonDecl]:
    data = r.toml("Pipfile", report=False)
    requires = dig(data, "requires") or {}
    for key in ("python_version", "python_full_version"):
        value = requires.get(key) if isinstance(requires, dict) else None
        if isinstance(value, str):
            yield PythonDecl(r.rel("Pipfile"), toml_line(r.text("Pipfile"), "requires", key), "pipfile", value)


# --- tox ------------------------------------------------------------------------------------------


def expand_envlist(value: str) -> list[str]:
    """A tox envlist as env names: commas and newlines separate, `{a,b}` expands (cartesian product, also
    `{8-12}` ranges), `py{38,39}-django{3,4}` gives four names."""
    names: list[str] = []
    for item in _split_top(value):
        names += _expand(item)
    return [n for n in names if n]


def _split_top(value: str) -> list[str]:
    out, depth, current = [], 0, ""
    for ch in value:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth = max(0, depth - 1)
        if ch in ",\n" and depth == 0:
            out.append(current.strip())
            current = ""
        else:
            current += ch
    out.append(current.strip())
    return [o for o in out if o and not o.startswith("#")]


def _expand(item: str) -> list[str]:
    m = re.search(r"\{([^{}]*)\}", item)
    if not m:
        return [item]
    head, tail = item[: m.start()], item[m.end():]
    choices: list[str] = []
    for choice in m.group(1).split(","):
        choice = choice.strip()
        rng = re.fullmatch(r"(\d+)-(\d+)", choice)
        if rng and int(rng.group(1)) <= int(rng.group(2)):
            choices += [str(n) for n in range(int(rng.group(1)), int(rng.group(2)) + 1)]
        else:
            choices.append(choice)
    return [x for c in choices for x in _expand(head + c + tail)]


def tox_sources(r: Reader, pyproject: dict[str, Any] | None, setup_cfg: Any) -> list[tuple[str, Any, str]]:
    """Where tox is configured: (file, parsed INI or TOML table, style "ini"/"toml"), in tox's own order
    of precedence (tox.ini, setup.cfg, pyproject.toml legacy_tox_ini or native, tox.toml)."""
    out: list[tuple[str, Any, str]] = []
    if r.exists("tox.ini"):
        ini = r.ini("tox.ini")
        if ini is not None:
            out.append(("tox.ini", ini, "ini"))
    if setup_cfg is not None and setup_cfg.has_section("tox:tox"):
        out.append(("setup.cfg", setup_cfg, "ini"))
    tox = dig(pyproject, "tool", "tox")
    if isinstance(tox, dict):
        legacy = tox.get("legacy_tox_ini")
        if isinstance(legacy, str):
            ini = r.ini("pyproject.toml", legacy, label="[tool.tox] legacy_tox_ini")
            if ini is not None:
                out.append(("pyproject.toml", ini, "ini"))
        else:
            out.append(("pyproject.toml", tox, "toml"))
    if r.exists("tox.toml"):
        data = r.toml("tox.toml")
        if data is not None:
            out.append(("tox.toml", data, "toml"))
    return out


def _tox_envlist(r: Reader, pyproject: dict[str, Any] | None, setup_cfg: Any) -> Iterator[PythonDecl]:
    for name, conf, style in tox_sources(r, pyproject, setup_cfg):
        text = r.text(name)
        envs: list[str] = []
        if style == "ini":
            section = "tox:tox" if name == "setup.cfg" else "tox"
            for key in ("envlist", "env_list"):
                if conf.has_option(section, key):
                    envs = expand_envlist(conf.get(section, key))
                    break
        else:
            value = conf.get("env_list", conf.get("envlist"))
            if isinstance(value, list):
                envs = [x for v in value if isinstance(v, str) for x in expand_envlist(v)]
            elif isinstance(value, str):
                envs = expand_envlist(value)
        seen: set[str] = set()
        for env in envs:
            for factor in env.split("-"):
                if _TOX_FACTOR_RE.match(factor) and factor not in seen:
                    seen.add(factor)
                    yield PythonDecl(r.rel(name), find_line(text, factor) or find_line(text, "envlist")
                                     or find_line(text, "env_list"), "tox-envlist", factor)


# --- CI ---------------------------------------------------------------------------------------------


def workflow_files(r: Reader) -> list[str]:
    names = r.listdir(".github/workflows")
    return [f".github/workflows/{n}" for n in names if n.endswith((".yml", ".yaml"))]


def _github_actions(r: Reader) -> Iterator[PythonDecl]:
    for name in workflow_files(r):
        doc = r.yaml_nodes(name)
        for job in mapping(mapping(doc).get("jobs")).values():
            job_map = mapping(job)
            matrix = mapping(mapping(job_map.get("strategy")).get("matrix"))
            for key, value in matrix.items():
                if _PYTHON_KEY_RE.match(key):
                    for s in scalars(value):
                        yield PythonDecl(r.rel(name), line(s), "github-actions", str(s.value))
                if key == "include":
                    for entry in sequence(value):
                        for k, v in mapping(entry).items():
                            if _PYTHON_KEY_RE.match(k):
                                for s in scalars(v):
                                    yield PythonDecl(r.rel(name), line(s), "github-actions", str(s.value))
            for step in sequence(job_map.get("steps")):
                step_map = mapping(step)
                uses = scalar(step_map.get("uses")) or ""
                if "setup-python" not in uses and "setup-uv" not in uses:
                    continue
                for s in scalars(mapping(step_map.get("with")).get("python-version")):
                    for part in str(s.value).split():
                        if "${{" not in str(s.value):
                            yield PythonDecl(r.rel(name), line(s), "github-actions", part)


def _gitlab_ci(r: Reader) -> Iterator[PythonDecl]:
    name = ".gitlab-ci.yml"
    doc = r.yaml_nodes(name)
    if doc is None:
        return
    top = mapping(doc)
    nodes = [("", doc), *((k, v) for k, v in top.items())]
    for _, node in nodes:
        m = mapping(node)
        image = m.get("image")
        image_name = scalar(image) if image is not None and scalar(image) is not None else scalar(mapping(image).get("name"))
        if image_name and image is not None:
            v = _image_python(image_name)
            if v:
                yield PythonDecl(r.rel(name), line(image), "gitlab-ci", image_name)
        for entry in sequence(mapping(m.get("parallel")).get("matrix")):
            for k, v in mapping(entry).items():
                if "PYTHON" in k.upper():
                    for s in scalars(v):
                        yield PythonDecl(r.rel(name), line(s), "gitlab-ci", str(s.value))


def _image_python(image: str) -> str | None:
    """The Python minor an image reference names: `python:3.12-slim`, `docker.io/library/python:3.11`,
    `ghcr.io/astral-sh/uv:python3.12-bookworm`; None otherwise (or for `python:$VERSION`)."""
    ref = image.split("@", 1)[0]
    repo, _, tag = ref.rpartition(":") if ":" in ref.rsplit("/", 1)[-1] else (ref, "", "")
    if repo.rsplit("/", 1)[-1] == "python" and tag:
        return minor_of(tag.split("-", 1)[0]) if not _PRERELEASE_RE.search(tag.split("-", 1)[0]) else None
    m = re.search(r"python-?(\d\.\d+)", tag)
    return minor_of(m.group(1)) if m else None


def dockerfile_names(r: Reader) -> list[str]:
    out = []
    for base in ("", "docker"):
        if base and not r.is_dir(base):
            continue
        for n in r.listdir(base):
            low = n.lower()
            if low == "dockerfile" or low.startswith("dockerfile.") or low.endswith(".dockerfile"):
                rel = f"{base}/{n}" if base else n
                if r.exists(rel):
                    out.append(rel)
    return out


def _dockerfiles(r: Reader) -> Iterator[PythonDecl]:
    for name in dockerfile_names(r):
        for i, raw in enumerate(r.lines(name), 1):
            m = _FROM_RE.match(raw)
            if m and _image_python(m["image"]):
                yield PythonDecl(r.rel(name), i, "dockerfile", m["image"].rsplit(":", 1)[-1])


# --- setup.py -----------------------------------------------------------------------------------------

_SETUP_KEYS = ("name", "python_requires", "classifiers", "packages", "py_modules", "install_requires", "license", "url",
               "project_urls", "keywords")


def read_setup_py(r: Reader) -> dict[str, Any]:
    """The literal keyword arguments of the `setup(...)` call in setup.py (never executed): name,
    python_requires, classifiers, and whether packages / py_modules are given (value True when they are
    not literals, e.g. `find_packages()`)."""
    text = r.text("setup.py")
    if text is None:
        return {}
    out: dict[str, Any] = {}
    try:
        tree = astparse.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        for key in ("name", "python_requires"):
            m = re.search(rf"\b{key}\s*=\s*(['\"])(.*?)\1", text)
            if m:
                out[key] = m.group(2)
        found = re.findall(r"['\"](Programming Language :: Python :: [23]\.\d{1,2})['\"]", text)
        if found:
            out["classifiers"] = found
        if re.search(r"\b(packages|py_modules)\s*=", text):
            out["packages"] = True
        out["setup_call"] = bool(re.search(r"\bsetup\s*\(", text))
        if re.search(r"\b(license|url|project_urls)\s*=", text):
            out["license"] = True
        return out
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        fname = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if fname != "setup":
            continue
        for kw in node.keywords:
            if kw.arg in _SETUP_KEYS:
                try:
                    out[kw.arg] = ast.literal_eval(kw.value)
                except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                    out[kw.arg] = True if kw.arg in ("packages", "py_modules", "license", "url", "project_urls") else None
        out["setup_call"] = True
    return out
