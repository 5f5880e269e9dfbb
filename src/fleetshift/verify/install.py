"""What goes into a service's environments, read the way the project installs itself.

Baseline ("old"): the project's lock when it has one, exactly, restricted to the main dependencies and the
selected groups and extras: `uv.lock` (through `uv export --frozen`), `poetry.lock` (Poetry 1.x and 2.x),
`pdm.lock`, `Pipfile.lock`, pip-compiled requirements as they are. Without a lock, the manifests' pins.

After ("new"): the same lock with only what the migration moves upgraded. The locked pins are written to a
requirements file that `uv pip compile` takes as its output, so uv keeps every version it can from it (its
preferences) while resolving the service's new requirements, and `--upgrade-package` lets the moved
packages (pins that changed, targets, replaced packages) move; packages no longer required drop out. A lock
the run regenerated itself is installed as it is.

Which parts: main dependencies, groups named test/tests/testing/dev (Poetry groups, PEP 735
dependency-groups, Pipfile dev-packages), extras with those names, the project's test dependencies kept
elsewhere (`Project.test_deps`: hatch envs, tox deps), requirements files other than documentation ones;
config `groups` / `extras` replace the default choice. Every part used is named in `InstallPlan.sources`.

Nothing here runs the fleet's code: setup.py is read with `ast` (its `extras_require` keys) and installed by
uv, which is the project's own build.
"""

from __future__ import annotations

import ast
import configparser
import json
import posixpath
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from packaging.markers import InvalidMarker, Marker, default_environment
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from fleetshift import astparse
from fleetshift.config import ServiceOptions
from fleetshift.manifests import installed_with_tests, tox_minimum_files
from fleetshift.manifests._toml import poetry_to_pep440
from fleetshift.model import LockFile, LockKind, ManifestKind, Pin, Service

TEST_LIKE = ("test", "tests", "testing", "dev")
SKIPPED_SECTIONS = {"setup_requires"}  # build-time only
MAIN_SECTIONS = {"dependencies", "packages", "tests_require"}
_DOC_LIKE = re.compile(r"(^|[-_./])(docs?|documentation|sphinx|mkdocs)([-_./]|$)", re.I)
_LOCK_ORDER = (
    LockKind.UV,
    LockKind.POETRY,
    LockKind.PDM,
    LockKind.PIPENV,
    LockKind.PIP_COMPILE,
    LockKind.EXPORT,
)
_REQUIREMENT_LOCKS = (LockKind.PIP_COMPILE, LockKind.EXPORT)  # generated requirements files
_LOCK_NAMES = {"uv.lock": LockKind.UV, "poetry.lock": LockKind.POETRY, "pdm.lock": LockKind.PDM,
               "Pipfile.lock": LockKind.PIPENV}  # fmt: skip


class LockError(Exception):
    """A lock file that cannot be read; the message names the file and what is wrong."""


@dataclass(frozen=True)
class Selection:
    """The groups and extras installed besides the main dependencies; `chosen_by` "config" or "default"."""

    groups: tuple[str, ...] = ()
    extras: tuple[str, ...] = ()
    chosen_by: str = "default"

    def describe(self, main: str = "main") -> str:
        return ", ".join((main, *self.groups, *(f"extra {e}" for e in self.extras)))


@dataclass(frozen=True)
class InstallPlan:
    """What goes into a service's environment, in order: uv requirement arguments, then the service itself.

    Each requirement is a PEP 508 string, a local path or URL, or an option with its value
    ("-r requirements-dev.txt", "-c constraints.txt", "-e /abs/libs/x"); relative files are relative to
    the service folder, where uv runs.

    With a lock, `lock` says which; `locked` holds its pins (requirement lines) for the baseline, or the
    preferences of the after-environment, whose `compile_input` is then resolved with `upgrade` (the
    packages allowed to move) — `export` is the `uv export` arguments when the pins come from a uv.lock.
    """

    requirements: tuple[str, ...] = ()
    editable_self: str = ""  # absolute folder installed with `-e`, "" when not installable
    overrides: tuple[str, ...] = ()  # requirement strings passed to uv as --override
    sources: tuple[str, ...] = ()  # where the list came from: "poetry.lock (main, test)", "hatch env default"
    self_deps: bool = False  # install the service with its dependencies (setup.py-only projects)
    self_extras: tuple[str, ...] = ()
    lock: LockFile | None = None
    locked: tuple[str, ...] = ()
    export: tuple[str, ...] = ()  # `uv export` arguments (uv.lock), run in the service folder
    compile_input: tuple[
        str, ...
    ] = ()  # after-environment from a lock: requirements resolved with preferences
    upgrade: tuple[str, ...] = ()  # --upgrade-package names

    def args(self) -> list[str]:
        return _args(self.requirements)

    @property
    def self_requirement(self) -> str:
        if not self.editable_self:
            return ""
        return self.editable_self + (f"[{','.join(self.self_extras)}]" if self.self_extras else "")

    def shown(self) -> tuple[str, ...]:
        """The install list as the environment record shows it."""
        head = (
            [f"{self.lock.file} ({len(self.locked)} locked pins)"]
            if self.lock and not self.compile_input
            else []
        )
        if self.compile_input:
            head.append(
                f"{self.lock.file if self.lock else 'lock'} with {', '.join(self.upgrade) or 'nothing'} upgraded"
            )
        tail = []
        if self.editable_self:
            tail.append(f"-e {self.self_requirement}" + ("" if self.self_deps else " (--no-deps)"))
        return (*head, *self.requirements, *tail)


def _args(reqs: Iterable[str]) -> list[str]:
    out: list[str] = []
    for req in reqs:
        opt, _, value = req.partition(" ")
        out += [opt, value] if opt in ("-r", "-c", "-e") else [req]
    return out


# ---- requirement strings --------------------------------------------------------------------------------


def _is_url(s: str) -> bool:
    return "://" in s or s.startswith(("git+", "hg+", "svn+", "bzr+", "file:"))


def requirement_string(root: Path, pin: Pin) -> str:
    """A Pin as uv takes it: `name[extras]spec; marker`, `-e /abs/dir` for a local folder, a path or URL."""
    extras = f"[{','.join(pin.extras)}]" if pin.extras else ""
    marker = f"; {pin.marker}" if pin.marker else ""
    if pin.path and _is_url(pin.path):
        if pin.editable:
            return f"-e {pin.path}"
        url = (
            pin.path
            if pin.path.startswith(("git+", "hg+", "svn+", "bzr+", "file:")) or not pin.path.endswith(".git")
            else f"git+{pin.path}"
        )
        return f"{pin.package}{extras} @ {url}{marker}"
    if pin.path:
        local = Path(pin.path) if posixpath.isabs(pin.path) else Path(root) / pin.path
        local = local.resolve()
        return f"-e {local}{extras}" if local.is_dir() else f"{local}{extras}{marker}"
    return f"{pin.package}{extras}{pin.spec}{marker}"


def _override(name: str, value: str) -> str:
    try:
        SpecifierSet(value)
    except InvalidSpecifier:
        return value  # a whole requirement string
    return f"{name}{value}"


# ---- the project itself ---------------------------------------------------------------------------------


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text("utf-8-sig"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def installable(folder: Path) -> bool:
    """Whether a folder is a package pip can install: pyproject with [build-system] or [project], setup.py,
    or setup.cfg with [metadata]; not when it says it is no package (Poetry `package-mode = false`, uv
    `package = false`)."""
    data = _read_toml(folder / "pyproject.toml")
    tool = data.get("tool", {}) if isinstance(data.get("tool"), dict) else {}
    if tool.get("poetry", {}).get("package-mode") is False or tool.get("uv", {}).get("package") is False:
        return False
    if "build-system" in data or "project" in data:
        return True
    if (folder / "setup.py").is_file():
        return True
    cfg = configparser.ConfigParser(interpolation=None)
    try:
        cfg.read_string((folder / "setup.cfg").read_text("utf-8-sig"))
    except (OSError, UnicodeDecodeError, configparser.Error):
        return False
    return cfg.has_section("metadata")


def setup_py_only(folder: Path) -> bool:
    """A project whose dependencies only setup.py knows (no static [project] dependencies, no Poetry table,
    no setup.cfg install_requires): it is installed with its dependencies, as `pip install -e .` would."""
    if not (folder / "setup.py").is_file():
        return False
    data = _read_toml(folder / "pyproject.toml")
    project = data.get("project")
    if isinstance(project, dict) and "dependencies" not in (project.get("dynamic") or []):
        return False
    if isinstance(data.get("tool"), dict) and "poetry" in data["tool"]:
        return False
    cfg = configparser.ConfigParser(interpolation=None)
    try:
        cfg.read_string((folder / "setup.cfg").read_text("utf-8-sig"))
    except (OSError, UnicodeDecodeError, configparser.Error):
        return True
    return not cfg.has_option("options", "install_requires")


def _setup_py_keyword(folder: Path, keyword: str) -> ast.expr | None:
    """The value of a `setup(...)` keyword in setup.py, read with `ast` (never run); a module-level name is
    followed to the literal it is assigned."""
    try:
        tree = astparse.parse((folder / "setup.py").read_text("utf-8-sig"))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return None
    assigned: dict[str, ast.expr] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            assigned[node.targets[0].id] = node.value
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        for kw in node.keywords:
            if kw.arg == keyword:
                return assigned.get(kw.value.id) if isinstance(kw.value, ast.Name) else kw.value
    return None


def _string_list(node: ast.expr | None, folder: Path, depth: int = 0) -> list[str] | None:
    """A list (or tuple) of string literals, `A + [...]` concatenations and module-level names of such lists
    resolved; None when it is anything else."""
    if node is None or depth > 5:
        return None
    if isinstance(node, (ast.List, ast.Tuple)):
        if all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts):
            return [str(e.value) for e in node.elts if isinstance(e, ast.Constant)]
        return None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _string_list(node.left, folder, depth + 1), _string_list(node.right, folder, depth + 1)
        return None if left is None or right is None else left + right
    if isinstance(node, ast.Name):
        try:
            tree = astparse.parse((folder / "setup.py").read_text("utf-8-sig"))
        except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
            return None
        for stmt in tree.body:
            if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
                    and stmt.targets[0].id == node.id):  # fmt: skip
                return _string_list(stmt.value, folder, depth + 1)
    return None


def setup_py_extras(folder: Path) -> tuple[str, ...]:
    """The keys of setup.py's `extras_require`, read with `ast` (never run): a dict literal in the call, or a
    name assigned a dict literal at module level. () when it is anything else."""
    value = _setup_py_keyword(folder, "extras_require")
    if isinstance(value, ast.Dict):
        return tuple(k.value for k in value.keys if isinstance(k, ast.Constant) and isinstance(k.value, str))
    return ()


def setup_py_tests_require(folder: Path) -> tuple[str, ...]:
    """setup.py's `tests_require`, read with `ast` (never run): a list of strings, a module-level name of one,
    or a concatenation of those. () when it is absent or anything else (then the test extras carry them)."""
    if not (folder / "setup.py").is_file():
        return ()
    found = _string_list(_setup_py_keyword(folder, "tests_require"), folder) or []
    out = []
    for line in found:
        try:
            Requirement(line)
        except InvalidRequirement:
            continue
        out.append(line.strip())
    return tuple(out)


def _poetry_extras(folder: Path) -> dict[str, tuple[str, ...]]:
    """Poetry's `[tool.poetry.extras]`: extra -> canonical package names (optional main dependencies)."""
    extras = _read_toml(folder / "pyproject.toml").get("tool", {}).get("poetry", {}).get("extras", {})
    if not isinstance(extras, dict):
        return {}
    return {
        str(k): tuple(canonicalize_name(str(n)) for n in v) for k, v in extras.items() if isinstance(v, list)
    }


def _poetry_optional(folder: Path) -> set[str]:
    deps = _read_toml(folder / "pyproject.toml").get("tool", {}).get("poetry", {}).get("dependencies", {})
    if not isinstance(deps, dict):
        return set()
    return {canonicalize_name(k) for k, v in deps.items() if isinstance(v, dict) and v.get("optional")}


# ---- groups and extras ----------------------------------------------------------------------------------


def _section_kind(section: str) -> tuple[str, str]:
    """("main" | "group" | "extra" | "skip", name) of a Pin section."""
    if section in SKIPPED_SECTIONS:
        return "skip", section
    if section in MAIN_SECTIONS or section == "" or section.startswith("-r "):
        return "main", section
    if section == "dev-packages":
        return "group", "dev"
    kind, _, name = section.partition(":")
    if kind == "group":
        return "group", name
    if kind in ("optional", "extra"):
        return "extra", name
    return "main", section


def available(root: Path, service: Service) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(groups, extras) the service declares, in the order of its manifests."""
    groups: dict[str, None] = {}
    extras: dict[str, None] = {}
    for pin in service.pins:
        kind, name = _section_kind(pin.section)
        if kind == "group":
            groups[name] = None
        elif kind == "extra":
            extras[name] = None
    folder = Path(root) / service.path
    for extra in (
        *_poetry_extras(folder),
        *(setup_py_extras(folder) if (folder / "setup.py").is_file() else ()),
    ):
        extras[extra] = None
    return tuple(groups), tuple(extras)


def select(root: Path, service: Service, options: ServiceOptions | None = None) -> Selection:
    """Groups and extras to install: config `groups` / `extras` when set, else those named like tests."""
    groups, extras = available(root, service)
    cfg_groups = options.groups if options is not None else None
    cfg_extras = options.extras if options is not None else None
    chosen_groups = (
        cfg_groups if cfg_groups is not None else tuple(g for g in groups if g.lower() in TEST_LIKE)
    )
    chosen_extras = (
        cfg_extras if cfg_extras is not None else tuple(e for e in extras if e.lower() in TEST_LIKE)
    )
    by = "config" if cfg_groups is not None or cfg_extras is not None else "default"
    return Selection(tuple(chosen_groups), tuple(chosen_extras), by)


def _selected(pin: Pin, sel: Selection) -> bool:
    kind, name = _section_kind(pin.section)
    if kind == "main":
        return True
    if kind == "group":
        return name in sel.groups
    if kind == "extra":
        return name in sel.extras
    return False


def docs_only(file: str) -> bool:
    """A requirements file for documentation (docs/requirements.txt, requirements-docs.txt)."""
    return bool(_DOC_LIKE.search(file))


# ---- which pins moved -----------------------------------------------------------------------------------


def moved_packages(before: Service | None, after: Service, extra: Iterable[str] = ()) -> tuple[str, ...]:
    """Canonical names whose pin changed between two reads of a service (spec, marker, path, added or
    removed), plus `extra` (targets, replaced packages)."""

    def pins(s: Service) -> dict[str, set[tuple[str, str, str]]]:
        out: dict[str, set[tuple[str, str, str]]] = {}
        for p in s.pins:
            out.setdefault(p.package, set()).add((p.spec.replace(" ", ""), p.marker, p.path))
        return out

    names = {canonicalize_name(n) for n in extra}
    if before is not None:
        old, new = pins(before), pins(after)
        names |= {n for n in old.keys() | new.keys() if old.get(n) != new.get(n)}
    return tuple(sorted(names))


# ---- locks ----------------------------------------------------------------------------------------------


def lock_for(root: Path, service: Service) -> LockFile | None:
    """The lock an environment is installed from: the first of uv.lock, poetry.lock, pdm.lock, Pipfile.lock,
    pip-compile output that discovery found (or, when discovery recorded none, that lies in the folder)."""
    locks = list(service.project.locks)
    if not locks:
        folder = Path(root) / service.path
        for name, kind in _LOCK_NAMES.items():
            if (folder / name).is_file():
                locks.append(LockFile(posixpath.join(service.path, name) if service.path else name, kind))
    locks = [lk for lk in locks if (Path(root) / lk.file).is_file()]
    for kind in _LOCK_ORDER:
        for lk in locks:
            if lk.kind == kind:
                return lk
    return None


def marker_env(python_version: str) -> dict[str, str]:
    """The marker environment of an interpreter of this version on this machine."""
    env = dict(default_environment())
    if python_version:
        parts = python_version.split(".")
        env["python_full_version"] = python_version if len(parts) == 3 else f"{python_version}.0"
        env["python_version"] = ".".join(parts[:2])
    return env


def _holds(marker: str, env: Mapping[str, str], extras: Iterable[str] = ("",)) -> bool:
    if not marker:
        return True
    try:
        m = Marker(marker)
    except InvalidMarker:
        return True
    return any(m.evaluate({**env, "extra": e}) for e in (tuple(extras) or ("",)))


def _admits_python(constraint: str, python_version: str) -> bool:
    if not constraint or not python_version or constraint.strip() == "*":
        return True
    try:
        spec = SpecifierSet(poetry_to_pep440(constraint))
        return spec.contains(Version(python_version), prereleases=True)
    except (InvalidSpecifier, InvalidVersion, ValueError):
        return True


def _satisfies(version: str, constraint: str) -> bool:
    if not constraint or constraint.strip() == "*":
        return True
    try:
        return SpecifierSet(poetry_to_pep440(constraint)).contains(Version(version), prereleases=True)
    except (InvalidSpecifier, InvalidVersion, ValueError):
        return True


def _pinned_line(name: str, version: str, source: Mapping[str, Any] | None, folder: Path) -> str:
    """A locked package as a requirement line: `name==version`, or its git / url / path source."""
    source = source or {}
    kind, url = source.get("type", ""), str(source.get("url", ""))
    if kind == "git":
        ref = source.get("resolved_reference") or source.get("reference") or ""
        return f"{name} @ git+{url}" + (f"@{ref}" if ref else "")
    if kind == "url":
        return f"{name} @ {url}"
    if kind in ("directory", "file"):
        local = (folder / url).resolve()
        return f"-e {local}" if kind == "directory" and source.get("develop", True) else str(local)
    return f"{name}=={version}"


def _poetry_roots(
    root: Path, service: Service, lock: LockFile, sel: Selection
) -> list[tuple[str, tuple[str, ...], str, str]]:
    """(name, extras, marker, specifier) of the service's direct requirements that the selection installs."""
    folder = Path(root) / service.path
    optional = _poetry_optional(folder)
    wanted_optional = {n for e in sel.extras for n in _poetry_extras(folder).get(e, ())}
    roots = []
    for pin in service.pins:
        if pin.path and not _is_url(pin.path) and (Path(root) / pin.path).resolve() == folder.resolve():
            continue
        if not _selected(pin, sel):
            continue
        kind, _ = _section_kind(pin.section)
        if kind == "main" and pin.package in optional and pin.package not in wanted_optional:
            continue
        if pin.section.startswith("-r "):
            continue
        roots.append((pin.package, pin.extras, pin.marker, pin.spec))
    return roots


def _poetry_deps(pkg: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    out = []
    for name, spec in (pkg.get("dependencies") or {}).items():
        for one in spec if isinstance(spec, list) else [spec]:
            out.append((canonicalize_name(name), one if isinstance(one, dict) else {"version": str(one)}))
    return out


def _extra_names(pkg: Mapping[str, Any], extras: Iterable[str]) -> set[str]:
    names = set()
    table = pkg.get("extras") or {}
    for extra in extras:
        for req in table.get(extra, ()):
            m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", str(req))
            if m:
                names.add(canonicalize_name(m.group(1)))
    return names


def _load_lock(root: Path, lock: LockFile, tool: str) -> dict[str, Any]:
    """A lock file's data (pipenv's Pipfile.lock is JSON, the others TOML); a LockError naming `tool`'s lock
    command if it cannot be read (TOMLDecodeError and JSONDecodeError are both ValueErrors)."""
    try:
        text = (Path(root) / lock.file).read_text("utf-8-sig")
        data: dict[str, Any] = json.loads(text) if tool == "pipenv" else tomllib.loads(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise LockError(f"{lock.file}: cannot read it ({exc}); fix the file or run `{tool} lock`") from exc
    return data


def poetry_locked(
    root: Path, service: Service, lock: LockFile, sel: Selection, python_version: str
) -> list[str]:
    """The pins of a poetry.lock that the main dependencies and the selected groups and extras need on this
    Python: the lock's dependency graph walked from the service's direct requirements (Poetry 1.x and 2.x
    formats alike; `category` is too coarse, every non-main group of 1.x is "dev")."""
    data = _load_lock(root, lock, "poetry")
    env = marker_env(python_version)
    folder = Path(root) / service.path
    by_name: dict[str, list[Mapping[str, Any]]] = {}
    for pkg in data.get("package", []):
        by_name.setdefault(canonicalize_name(str(pkg.get("name", ""))), []).append(pkg)

    groups = {"main", *sel.groups}

    def pick(name: str, constraint: str = "") -> Mapping[str, Any] | None:
        """The entry of a package to install (a lock may hold several: per Python range, or per group when
        groups need different versions): the one this Python, the selected groups and the constraint fit."""
        found = by_name.get(name) or []
        for test in (
            lambda p: _admits_python(str(p.get("python-versions", "")), python_version),
            lambda p: "groups" not in p or bool(set(p["groups"]) & groups),
            lambda p: _satisfies(str(p.get("version", "")), constraint),
        ):
            found = [p for p in found if test(p)] or found
        return found[-1] if found else None

    lines: dict[str, str] = {}
    queue: list[tuple[str, tuple[str, ...], str]] = [
        (name, extras, spec)
        for name, extras, marker, spec in _poetry_roots(root, service, lock, sel)
        if _holds(marker, env)
    ]
    seen: set[tuple[str, tuple[str, ...], str]] = set()
    while queue:
        name, extras, constraint = queue.pop(0)
        if (name, extras, constraint) in seen or name == "python":
            continue
        seen.add((name, extras, constraint))
        pkg = pick(name, constraint)
        if pkg is None:
            continue
        lines[name] = _pinned_line(name, str(pkg.get("version", "")), pkg.get("source"), folder)
        wanted = _extra_names(pkg, extras)
        for dep, spec in _poetry_deps(pkg):
            if spec.get("optional") and dep not in wanted:
                continue
            if not _admits_python(str(spec.get("python", "")), python_version):
                continue
            if not _holds(str(spec.get("markers", "")), env, extras):
                continue
            queue.append((dep, tuple(sorted(spec.get("extras") or ())), str(spec.get("version", ""))))
    return [lines[n] for n in sorted(lines)]


def pdm_locked(
    root: Path, service: Service, lock: LockFile, sel: Selection, python_version: str
) -> list[str]:
    """The pins of a pdm.lock in the groups `default` plus the selected groups and extras, on this Python."""
    data = _load_lock(root, lock, "pdm")
    env = marker_env(python_version)
    wanted = {"default", *sel.groups, *sel.extras}
    folder = Path(root) / service.path
    lines: dict[str, str] = {}
    for pkg in data.get("package", []):
        name = canonicalize_name(str(pkg.get("name", "")))
        if not set(pkg.get("groups") or ["default"]) & wanted or not _holds(str(pkg.get("marker", "")), env):
            continue
        rp = str(pkg.get("requires_python", ""))
        try:
            if (
                rp
                and python_version
                and not SpecifierSet(rp).contains(Version(python_version), prereleases=True)
            ):
                continue
        except (InvalidSpecifier, InvalidVersion):
            pass
        if pkg.get("path"):
            local = (folder / str(pkg["path"])).resolve()
            lines[name] = f"-e {local}" if pkg.get("editable") else str(local)
        elif pkg.get("git"):
            lines[name] = f"{name} @ git+{pkg['git']}@{pkg.get('revision') or pkg.get('ref', '')}".rstrip("@")
        elif pkg.get("url"):
            lines[name] = f"{name} @ {pkg['url']}"
        else:
            lines[name] = f"{name}=={pkg.get('version', '')}"
    return [lines[n] for n in sorted(lines)]


def pipfile_locked(
    root: Path, service: Service, lock: LockFile, sel: Selection, python_version: str
) -> list[str]:
    """The pins of a Pipfile.lock: `default`, plus `develop` when the dev group is selected."""
    data = _load_lock(root, lock, "pipenv")
    env = marker_env(python_version)
    folder = Path(root) / service.path
    lines: dict[str, str] = {}
    sections = ["default", *(["develop"] if "dev" in sel.groups or "develop" in sel.groups else [])]
    for section in sections:
        for raw_name, entry in (data.get(section) or {}).items():
            name = canonicalize_name(raw_name)
            if not isinstance(entry, dict) or not _holds(str(entry.get("markers", "")), env):
                continue
            if entry.get("path") or entry.get("file"):
                local = (folder / str(entry.get("path") or entry.get("file"))).resolve()
                lines[name] = f"-e {local}" if entry.get("editable") else str(local)
            elif entry.get("git"):
                ref = entry.get("ref", "")
                lines[name] = f"{name} @ git+{entry['git']}" + (f"@{ref}" if ref else "")
            elif entry.get("version"):
                lines[name] = f"{name}{entry['version']}"
            else:
                lines[name] = name
    return [lines[n] for n in sorted(lines)]


def uv_export_args(service: Service, lock: LockFile, sel: Selection, root: Path) -> tuple[str, ...]:
    """`uv export` arguments for the locked pins of a uv.lock in the selected groups and extras."""
    groups, extras = available(root, service)
    args = ["export", "--frozen", "--format", "requirements-txt", "--no-hashes", "--no-header", "--no-annotate",
            "--no-emit-project", "--no-default-groups"]  # fmt: skip
    args += [a for g in sel.groups if g in groups for a in ("--group", g)]
    args += [a for e in sel.extras if e in extras for a in ("--extra", e)]
    return tuple(args)


def absolute_lines(lines: Iterable[str], folder: Path) -> list[str]:
    """Requirement lines with local paths made absolute (they are written outside the service folder)."""
    out = []
    for line in lines:
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        opt, _, value = text.partition(" ")
        if opt in ("-e", "-r", "-c") and value and not _is_url(value) and not posixpath.isabs(value):
            text = f"{opt} {(folder / value).resolve()}"
        elif re.match(r"\.{1,2}(/|\[|$)", text):  # ".", "./lib", ".[test]"
            path, bracket, rest = text.partition("[")
            text = str((folder / path).resolve()) + bracket + rest
        out.append(text)
    return out


def manifest_kind_of(file: str) -> ManifestKind | None:
    """The manifest kind of a lock's source file (a `.in` / `.txt` requirements file, a pyproject...)."""
    name = posixpath.basename(file)
    if name.endswith((".in", ".txt")):
        return ManifestKind.REQUIREMENTS
    return {"pyproject.toml": ManifestKind.PYPROJECT, "setup.cfg": ManifestKind.SETUP_CFG,
            "Pipfile": ManifestKind.PIPFILE}.get(name)  # fmt: skip


# ---- the plan -------------------------------------------------------------------------------------------


def _test_dep_lines(service: Service, folder: Path) -> tuple[list[str], list[str]]:
    reqs: list[str] = []
    sources: list[str] = []
    for td in service.project.test_deps:
        if not td.requirements:
            continue
        sources.append(td.source)
        for r in td.requirements:  # "-r x" stays relative to the service folder, as the manifests' files
            opt, _, value = r.partition(" ")
            if opt in ("-r", "-c") and posixpath.isabs(value):
                try:
                    value = Path(value).relative_to(folder).as_posix()
                except ValueError:
                    pass
            reqs.append(f"{opt} {posixpath.normpath(value)}" if opt in ("-r", "-c") else r)
    return reqs, sources


def _not_locked(
    root: Path,
    service: Service,
    sel: Selection,
    locked: Iterable[str],
    req_files: Iterable[str],
    python_version: str,
) -> list[Pin]:
    """Selected manifest pins (not from requirement files, not local paths) whose package the lock lacks."""
    names = set()
    for line in locked:
        m = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)\s*(==|@|\[|$)", line)
        if m and not line.startswith("-"):
            names.add(canonicalize_name(m.group(1)))
    folder = Path(root) / service.path
    optional = _poetry_optional(folder) - {n for e in sel.extras for n in _poetry_extras(folder).get(e, ())}
    env = marker_env(python_version)
    skip_files = set(req_files)
    return [
        p
        for p in service.pins
        if _selected(p, sel)
        and p.section not in SKIPPED_SECTIONS
        and not p.section.startswith("-r ")
        and p.file not in skip_files
        and not p.path
        and p.package not in names
        and p.package not in optional
        and p.package != "python"
        and _holds(p.marker, env)
    ]


def _mentions_pytest(reqs: Iterable[str]) -> bool:
    for r in reqs:
        try:
            if canonicalize_name(Requirement(r).name) == "pytest":
                return True
        except InvalidRequirement:
            continue
    return False


def plan_install(
    root: Path,
    service: Service,
    *,
    options: ServiceOptions | None = None,
    python_version: str = "",
    stage: str = "baseline",
    before: Service | None = None,
    upgrade: Iterable[str] = (),
    pin_overrides: Mapping[str, str] | None = None,
    relocked: bool = False,
    use_lock: bool = True,
) -> InstallPlan:
    """The install of one environment. `stage` "baseline" installs the lock exactly; "after" installs the
    same lock with only the moved packages (pins that differ from `before`, plus `upgrade`) upgraded, or the
    lock as it is when the run regenerated it (`relocked`)."""
    root = Path(root)
    folder = (root / service.path).resolve()
    base = service.path or "."
    sel = select(root, service, options)
    overrides = tuple(_override(k, v) for k, v in sorted((pin_overrides or {}).items()))
    lock = lock_for(root, service) if use_lock else None
    self_dep = any(
        p.path and not _is_url(p.path) and (root / p.path).resolve() == folder for p in service.pins
    )
    editable_self = str(folder) if installable(folder) and not self_dep else ""
    only_setup_py = bool(editable_self) and setup_py_only(folder)
    self_extras = tuple(e for e in sel.extras if e in setup_py_extras(folder)) if only_setup_py else ()

    test_reqs, test_sources = _test_dep_lines(service, folder)
    sources: list[str] = []
    reqs: list[str] = []

    # requirement files: every one but documentation, includes and `.in` files locked by a `.txt` twin
    included = {inc for m in service.manifests if m.kind == ManifestKind.REQUIREMENTS for inc in m.includes}
    files = {m.file for m in service.manifests}
    lock_file = lock.file if lock and lock.kind in _REQUIREMENT_LOCKS else ""
    lock_source = lock.source if lock_file else ""
    req_files: list[str] = []
    minimum = tox_minimum_files(root, service.path)
    for m in service.manifests:
        if m.kind != ManifestKind.REQUIREMENTS:
            continue
        if m.file in included or (m.file.endswith(".in") and m.file[:-3] + ".txt" in files):
            continue
        if m.file in (lock_file, lock_source) or docs_only(posixpath.relpath(m.file, base)):
            continue
        if not installed_with_tests(m.file, service.path, minimum):  # deploy/docker requirements, minimum pins
            continue
        req_files.append(m.file)

    main_label = {"poetry.lock": "main", "pdm.lock": "default", "Pipfile.lock": "default"}
    if lock is not None and lock.kind not in _REQUIREMENT_LOCKS:
        # the lock holds the manifests' pins; what it does not hold comes on top
        locked: list[str] = []
        export: tuple[str, ...] = ()
        if lock.kind == LockKind.UV:
            export = uv_export_args(service, lock, sel, root)
        elif lock.kind == LockKind.POETRY:
            locked = poetry_locked(root, service, lock, sel, python_version)
        elif lock.kind == LockKind.PDM:
            locked = pdm_locked(root, service, lock, sel, python_version)
        else:
            locked = pipfile_locked(root, service, lock, sel, python_version)
        groups = (
            sel.groups
            if lock.kind != LockKind.PIPENV
            else tuple("develop" if g == "dev" else g for g in sel.groups)
        )
        sources.append(
            f"{posixpath.basename(lock.file)} ({Selection(groups, sel.extras).describe(main_label.get(lock.kind.value, 'main'))})"
        )
        if not export:  # a stale lock: what the manifests ask for and the lock lacks comes fresh
            missing = _not_locked(root, service, sel, locked, req_files, python_version)
            if missing:
                reqs += [requirement_string(root, p) for p in missing]
                names = ", ".join(dict.fromkeys(p.package for p in missing))
                sources.append(f"{posixpath.relpath(missing[0].file, base)} (not in the lock: {names})")
        reqs += [f"-r {posixpath.relpath(f, base)}" for f in req_files]
        sources += [posixpath.relpath(f, base) for f in req_files]
    else:
        locked = []
        export = ()
        if lock is not None:  # a pip-compile or export output: installed as it is
            locked = [f"-r {(root / lock.file).resolve()}"]
            sources.append(f"{posixpath.relpath(lock.file, base)} ({lock.kind.value})")
        manifest_sources: dict[str, None] = {}
        for m in service.manifests:
            # setup.py's requirements come with the project itself (`-e .` with its dependencies, and
            # tests_require below), read from the edited file
            if m.kind in (ManifestKind.REQUIREMENTS, ManifestKind.SETUP_PY):
                continue
            chosen = [p for p in m.pins if _selected(p, sel) and p.section not in SKIPPED_SECTIONS]
            if chosen or m.includes:
                manifest_sources[f"{posixpath.relpath(m.file, base)} ({sel.describe()})"] = None
            reqs += [requirement_string(root, p) for p in chosen]
            reqs += [f"-r {posixpath.relpath(inc, base)}" for inc in m.includes]  # setup.cfg `file:` includes
        for f in req_files:
            opt = "-c" if posixpath.basename(f).lower().startswith("constraints") else "-r"
            reqs.append(f"{opt} {posixpath.relpath(f, base)}")
            manifest_sources[posixpath.relpath(f, base)] = None
        sources += list(manifest_sources)
    if only_setup_py:
        sources.append(
            "setup.py (with its dependencies"
            + (f", extras {', '.join(self_extras)})" if self_extras else ")")
        )
    tests_require = setup_py_tests_require(folder) if editable_self else ()
    if tests_require:
        reqs += list(tests_require)
        sources.append("setup.py tests_require")
    reqs += test_reqs
    sources += test_sources
    runner = service.project.test_command.runner
    pins_in = [p for p in service.pins if _selected(p, sel)]
    has_pytest = any(p.package == "pytest" for p in pins_in) or _mentions_pytest(test_reqs)
    if lock is not None and lock.kind not in _REQUIREMENT_LOCKS and not has_pytest:
        has_pytest = any(ln.startswith("pytest==") for ln in locked)
    if service.has_tests and runner == "pytest" and not has_pytest:
        reqs.append("pytest")
    plan = InstallPlan(
        tuple(dict.fromkeys(reqs)),
        editable_self,
        overrides,
        tuple(dict.fromkeys(sources)),
        only_setup_py,
        self_extras,
        lock,
        tuple(locked),
        export,
    )
    if lock is not None and lock.kind in _REQUIREMENT_LOCKS and before is not None:
        # a generated requirements file is also a manifest: changed pins mean the run regenerated it
        def pins_of(s: Service) -> list[tuple[str, str, str]]:
            return sorted((p.package, p.spec, p.marker) for p in s.pins if p.file == lock.file)

        relocked = relocked or pins_of(before) != pins_of(service)
    if stage != "after" or lock is None or relocked:
        return plan
    # after: the lock's pins as preferences, the service's new requirements resolved, the moved ones free
    moved = moved_packages(before, service, [*upgrade, *(pin_overrides or {})])
    compile_input: list[str] = []
    source = lock.source if lock.source and (root / lock.source).is_file() else ""
    if lock.kind == LockKind.PIP_COMPILE and source and manifest_kind_of(source) == ManifestKind.REQUIREMENTS:
        compile_input.append(f"-r {(root / source).resolve()}")
    else:
        roots = [p for p in service.pins if _selected(p, sel) and p.section not in SKIPPED_SECTIONS
                 and not p.section.startswith("-r ") and p.file not in {*req_files}]  # fmt: skip
        folder_pins = [
            p for p in roots if not (p.path and not _is_url(p.path) and (root / p.path).resolve() == folder)
        ]
        optional = _poetry_optional(folder) if lock.kind == LockKind.POETRY else set()
        wanted_optional = {n for e in sel.extras for n in _poetry_extras(folder).get(e, ())}
        compile_input += [
            requirement_string(root, p)
            for p in folder_pins
            if not (
                _section_kind(p.section)[0] == "main"
                and p.package in optional
                and p.package not in wanted_optional
            )
        ]
    return replace(plan, compile_input=tuple(dict.fromkeys(compile_input)), upgrade=moved)


__all__ = [
    "TEST_LIKE",
    "InstallPlan",
    "LockError",
    "Selection",
    "absolute_lines",
    "available",
    "docs_only",
    "installable",
    "lock_for",
    "marker_env",
    "moved_packages",
    "pdm_locked",
    "pipfile_locked",
    "plan_install",
    "poetry_locked",
    "requirement_string",
    "select",
    "setup_py_extras",
    "setup_py_only",
    "setup_py_tests_require",
    "uv_export_args",
]
