"""Which Python a service's environments run on, and where that interpreter is on this machine.

The choice, for each service: the config's `python = "3.x"`, else the version the project pins
(`.python-version`), else the newest available version its declared range admits (requires-python, Poetry
`python`, tox envlist, CI matrices...), preferring the interpreter running fleetshift when the range admits
it. Baseline and after use the same one.

Interpreters are looked up, without running any of the fleet's code, among: the one running fleetshift,
those uv manages (`uv python dir`), pyenv installs
(`$PYENV_ROOT/versions/<version>/bin/python`) and `python3.X` on PATH (asked for its version, since a pyenv
shim may name a version it cannot run). `uv python install` is the last resort; it needs the network to
python-build-standalone, which may be unreachable, and then the error says how to get the version.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version
from uv import find_uv_bin

from fleetshift.config import FleetConfig, ServiceOptions
from fleetshift.model import Fleet, PythonModel, Service
from fleetshift.proc import run_captured
from fleetshift.resolve import uv_env

_VERSION = re.compile(r"\d+(\.\d+){0,2}")
_PROBE = "import sys; print('.'.join(map(str, sys.version_info[:3])))"
_INSTALL_TIMEOUT = 180.0


@dataclass(frozen=True)
class Interpreter:
    """A Python found on this machine: its full version ("3.12.1"), path and where it was found."""

    version: str
    path: Path
    origin: str  # "fleetshift" (the running one), "uv", "pyenv", "PATH"

    @property
    def minor(self) -> str:
        return ".".join(self.version.split(".")[:2])


@dataclass(frozen=True)
class ResolvedPython:
    """The interpreter of a service's environments and why that version (`reason`: where it was declared)."""

    version: str  # full version of the interpreter, "3.12.1"
    path: Path
    origin: str
    reason: str  # 'python = "3.12" in fleetshift.toml [services.api]', "requires-python >=3.12 (pyproject.toml)" ...

    @property
    def minor(self) -> str:
        return ".".join(self.version.split(".")[:2])


class PythonUnavailable(Exception):
    """No interpreter for the version a service needs; the message names the version, where it was
    declared and how to get it."""


def _spec(request: str) -> SpecifierSet:
    """A version ("3.12", "3.12.1", "3") or a specifier (">=3.9,<3.13") as a SpecifierSet."""
    text = request.strip().removeprefix("python").removeprefix("py").strip()
    if _VERSION.fullmatch(text):
        parts = text.split(".")
        return SpecifierSet(f"=={text}" if len(parts) == 3 else f"=={text}.*")
    return SpecifierSet(text)


def _admits(spec: SpecifierSet, version: str) -> bool:
    try:
        return spec.contains(Version(version), prereleases=True)
    except InvalidVersion:
        return False


def _run_quiet(cmd: list[str], timeout: float, env: dict[str, str] | None = None) -> str | None:
    done = run_captured(cmd, timeout, env=env)
    return done.stdout if done.ok else None


def _probe(path: Path) -> str | None:
    """The version an interpreter reports, or None when it cannot run (a pyenv shim for another version)."""
    out = _run_quiet([str(path), "-c", _PROBE], 20)
    version = (out or "").strip()
    return version if _VERSION.fullmatch(version) else None


def _uv_managed() -> list[Interpreter]:
    """Pythons uv installed (`uv python dir`, one `cpython-<version>-<platform>` folder each); read from the
    folder names, since `uv python list` inspects every interpreter on PATH and takes seconds."""
    try:
        uv = find_uv_bin()
    except FileNotFoundError:
        return []
    where = (_run_quiet([uv, "python", "dir"], 30, env=uv_env()) or "").strip()
    if not where:
        return []

    def version(name: str) -> str | None:
        m = re.fullmatch(r"cpython-(\d+\.\d+\.\d+)-.+", name)
        return m.group(1) if m and "freethreaded" not in name else None

    return _installed(Path(where), "python3", version, "uv")


def _pyenv() -> list[Interpreter]:
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    return _installed(root, "python", lambda name: name if _VERSION.fullmatch(name) else None, "pyenv")


def _installed(
    folder: Path, exe: str, version_of: Callable[[str], str | None], source: str
) -> list[Interpreter]:
    """The interpreters installed in `folder`, one a subfolder (at `bin/<exe>`), their version read from its
    name (`version_of`: None for a folder that is not one)."""
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    found = []
    for name in names:
        version, python = version_of(name), folder / name / "bin" / exe
        if version and os.access(python, os.X_OK):
            found.append(Interpreter(version, python, source))
    return found


def _on_path(minors: Iterable[str]) -> list[Interpreter]:
    found = []
    for minor in minors:
        exe = shutil.which(f"python{minor}")
        if exe:
            version = _probe(Path(exe))
            if version and version.startswith(minor + "."):
                found.append(Interpreter(version, Path(exe), "PATH"))
    return found


_lock = threading.Lock()
_known: list[Interpreter] | None = None


def interpreters(refresh: bool = False) -> list[Interpreter]:
    """Every Python found here (the running one first, then uv's, pyenv's, PATH's); looked up once per process."""
    global _known
    with _lock:
        if _known is None or refresh:
            own = Interpreter(".".join(map(str, sys.version_info[:3])), Path(sys.executable), "fleetshift")
            found = [own, *_uv_managed(), *_pyenv()]
            have = {i.minor for i in found}
            found += _on_path(f"3.{m}" for m in range(6, 20) if f"3.{m}" not in have)
            _known = found
        return list(_known)


def _best(spec: SpecifierSet, candidates: list[Interpreter], prefer_own: bool) -> Interpreter | None:
    fitting = [i for i in candidates if _admits(spec, i.version)]
    if not fitting:
        return None
    if prefer_own:
        own = [i for i in fitting if i.origin == "fleetshift"]
        if own:
            return own[0]
    return max(fitting, key=lambda i: (Version(i.version), i.origin == "fleetshift"))


def _uv_install(request: str) -> Interpreter | None:
    """`uv python install <version>`, then its path; None when uv cannot get it (no network, unknown version)."""
    if not _VERSION.fullmatch(request.strip()):
        return None
    try:
        uv = find_uv_bin()
    except FileNotFoundError:
        return None
    if _run_quiet([uv, "python", "install", request.strip()], _INSTALL_TIMEOUT) is None:
        return None
    spec = _spec(request)
    for i in interpreters(refresh=True):
        if i.origin == "uv" and _admits(spec, i.version):
            return i
    return None


def find_python(version_or_spec: str, *, install: bool = True, prefer_own: bool = False) -> Path | None:
    """An interpreter of this version ("3.12", "3.12.1") or in this range (">=3.10,<3.13"), the newest that
    fits (the running one first with `prefer_own`); `uv python install` as the last resort. None when there
    is none, or the request cannot be read."""
    found = find_interpreter(version_or_spec, install=install, prefer_own=prefer_own)
    return found.path if found else None


def find_interpreter(
    version_or_spec: str, *, install: bool = True, prefer_own: bool = False
) -> Interpreter | None:
    try:
        spec = _spec(version_or_spec)
    except InvalidSpecifier:
        return None
    best = _best(spec, interpreters(), prefer_own)
    if best is None and install:
        best = _uv_install(version_or_spec)
    return best


def _declared_where(model: PythonModel, kinds: tuple[str, ...]) -> str:
    decls = [d for d in model.declarations if d.kind in kinds] or list(model.declarations)
    return ", ".join(dict.fromkeys(f"{d.kind} {d.value!r} in {d.file}" for d in decls[:3]))


def _how_to_get(version: str, service: Service, config_file: str) -> str:
    if _VERSION.fullmatch(version):
        minor = version
    else:
        try:
            admitted = _minors_admitted(_spec(version))
        except InvalidSpecifier:
            admitted = []
        minor = admitted[0] if admitted else "3.x"
    where = f"[services.{service.name}]" + (f" of {config_file}" if config_file else " of fleetshift.toml")
    return (
        f"install it (`pyenv install {minor}` or `uv python install {minor}`), or choose an available one with "
        f'python = "3.x" in {where}'
    )


def python_for(
    service: Service, options: ServiceOptions | None = None, *, config_file: str = "", install: bool = True
) -> ResolvedPython:
    """The Python both environments of a service run on; raises PythonUnavailable when it is not here.

    Order: config `python`, the project's pinned version (`.python-version`), the newest available version
    its declared range admits (the running interpreter when admitted), and with nothing declared, the
    running interpreter.
    """
    model = service.project.pythons
    where_cfg = f"{config_file or 'fleetshift.toml'} [services.{service.name}]"
    if options is not None and options.python:
        request, reason = options.python, f'python = "{options.python}" in {where_cfg}'
        found = find_interpreter(request, install=install)
    elif model.pinned:
        request = model.pinned
        reason = f"Python {model.pinned} pinned by {_declared_where(model, ('.python-version',))}"
        found = find_interpreter(request, install=install)
    elif model.spec or model.versions:
        spec_text = model.spec
        try:
            spec = SpecifierSet(spec_text)
        except InvalidSpecifier:
            spec = SpecifierSet()
        request = spec_text or " / ".join(model.versions)
        reason = f"Python {request} declared by {_declared_where(model, ('requires-python', 'poetry', 'python_requires'))}"
        found = None
        if model.spec:
            found = _best(spec, interpreters(), prefer_own=True)
        if found is None and model.versions:
            named = [i for i in interpreters() if i.minor in model.versions and _admits(spec, i.version)]
            found = _best(SpecifierSet(), named, prefer_own=True)
        if found is None and install:
            for minor in sorted(model.versions or _minors_admitted(spec), key=Version, reverse=True)[:1]:
                found = _uv_install(minor)
    else:
        own = interpreters()[0]
        return ResolvedPython(
            own.version, own.path, own.origin, "nothing declared: the Python running fleetshift"
        )
    if found is None:
        raise PythonUnavailable(
            f"service {service.name}: no Python {request} on this machine ({reason}); "
            f"{_how_to_get(request, service, config_file)}"
        )
    return ResolvedPython(found.version, found.path, found.origin, reason)


def _minors_admitted(spec: SpecifierSet) -> list[str]:
    """Released minor versions (3.6 to 3.13) the range admits, oldest first."""
    return [f"3.{m}" for m in range(6, 14) if _admits(spec, f"3.{m}.99") or _admits(spec, f"3.{m}.0")]


def resolve(spec_or_path: str) -> ResolvedPython | None:
    """An explicit `python=` argument (a path to an interpreter, or a version) as a ResolvedPython."""
    if not spec_or_path:
        return None
    path = Path(spec_or_path)
    if path.is_file() or os.sep in spec_or_path:
        version = _probe(path) or ""
        return ResolvedPython(version, path, "given", f"python={spec_or_path}")
    found = find_interpreter(spec_or_path)
    if found is None:
        raise PythonUnavailable(
            f"no Python {spec_or_path} on this machine; install it (`pyenv install {spec_or_path}` or "
            f"`uv python install {spec_or_path}`)"
        )
    return ResolvedPython(found.version, found.path, found.origin, f"python={spec_or_path}")


def preflight(fleet: Fleet, config: FleetConfig, *, install: bool = True) -> list[str]:
    """Problems that stop a run before anything is written: one line per service whose Python is missing."""
    problems = []
    for service in fleet.services:
        options = config.options(service.name, service.path)
        if options.skip:
            continue
        try:
            python_for(service, options, config_file=config.source, install=install)
        except PythonUnavailable as exc:
            problems.append(str(exc))
    return problems


__all__ = [
    "Interpreter",
    "PythonUnavailable",
    "ResolvedPython",
    "find_interpreter",
    "find_python",
    "interpreters",
    "preflight",
    "python_for",
    "resolve",
]
