"""Isolated environments per service, made with uv and its shared cache on the service's own Python, installed
the way the project installs itself (`install.plan_install`), every command logged and bounded by the step
timeout; the service tree is left byte-identical (build artefacts an install writes into it are removed).

The orchestrator's entry point is `make_env(root, service, run_dir, label, options=..., before=..., upgrade=...)`:
label "old" is the baseline (the lock exactly), "new" the after-environment (the lock with only the moved
packages upgraded). `preflight` (in `pythons`) finds services whose Python is missing before a run writes.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from uv import find_uv_bin

from fleetshift.config import ServiceOptions
from fleetshift.model import Service
from fleetshift.proc import run_logged as _run
from fleetshift.resolve import DNS_OPTIONS
from fleetshift.verify.install import (
    InstallPlan,
    LockError,
    _is_url,
    absolute_lines,
    lock_for,
    plan_install,
)
from fleetshift.verify.install import (
    installable as installable,
)
from fleetshift.verify.install import (
    requirement_string as requirement_string,
)
from fleetshift.verify.pythons import PythonUnavailable, ResolvedPython, python_for, resolve

ENVS_DIR = ".fleetshift/envs"
BASELINE_CACHE_DIR = ".fleetshift/cache/baseline"
DEFAULT_TIMEOUT = 300.0
CACHE_VERSION = "4"  # 3: runs carry their RunState (ran, usage error, import error ...); 4: no-passing


@dataclass(frozen=True)
class Env:
    """An isolated environment of one service, or why it could not be made (`ok` False, `error`, `log`).

    `sources` names where the install list came from ("poetry.lock (main, test)", "hatch env default");
    `python_version` the interpreter it runs on and `python_reason` why that one.
    """

    service: str
    label: str
    path: str
    ok: bool
    error: str = ""
    log: str = ""
    requirements: tuple[str, ...] = ()
    timed_out: bool = False
    sources: tuple[str, ...] = ()
    python_version: str = ""
    python_reason: str = ""

    @property
    def bin_dir(self) -> Path:
        return Path(self.path) / ("Scripts" if os.name == "nt" else "bin")

    @property
    def python(self) -> Path:
        return self.bin_dir / ("python.exe" if os.name == "nt" else "python")


def requirements_for(
    root: Path,
    service: Service,
    pin_overrides: Mapping[str, str] | None = None,
    *,
    options: ServiceOptions | None = None,
    python_version: str = "",
) -> InstallPlan:
    """The install list of a service from its manifests (main dependencies, test-like or configured groups
    and extras, requirement files but documentation ones, the project's test dependencies), without its
    lock: see `install.plan_install` for the whole plan.

    `pin_overrides` maps a package to a specifier (">=9,<10") or a requirement string; uv applies them over
    whatever the manifests say (`--override`).
    """
    return plan_install(
        root,
        service,
        options=options,
        python_version=python_version,
        pin_overrides=pin_overrides,
        use_lock=False,
    )


def child_env(service: Service, bin_dir: Path | None = None, venv: Path | None = None) -> dict[str, str]:
    """The environment of the fleet's commands: the user's, minus fleetshift's own pytest (PYTEST_*), plus
    FLEETSHIFT_SERVICE and the venv first on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_CORE_"))}
    env.pop("VIRTUAL_ENV", None)
    env["FLEETSHIFT_SERVICE"] = service.name
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # keep __pycache__ out of the fleet
    if bin_dir is not None:
        env["PATH"] = str(bin_dir) + os.pathsep + env.get("PATH", "")
    if venv is not None:
        env["VIRTUAL_ENV"] = str(venv)
    return env


def install_env(service: Service, venv: Path) -> dict[str, str]:
    """The environment of the uv commands that make a service's environment: the fleet's (`child_env`), a uv
    project command never making .venv in the service, and a dropped DNS lookup asked again after 1 s as for
    every uv call of fleetshift (`resolve.DNS_OPTIONS`) unless RES_OPTIONS says otherwise. The service's own
    commands never get the DNS option."""
    env = child_env(service)
    env["UV_PROJECT_ENVIRONMENT"] = str(venv)
    env.setdefault("RES_OPTIONS", DNS_OPTIONS)
    return env


def _error_lines(log_path: Path, start: int) -> str:
    """The gist of a failed step's output: uv's `error:` block, else its last lines."""
    try:
        with open(log_path, encoding="utf-8", errors="replace") as fh:
            fh.seek(start)
            lines = [ln.rstrip() for ln in fh.read().splitlines() if ln.strip()]
    except OSError:
        return ""
    lines = [ln for ln in lines if not ln.startswith(("$ ", "  (cwd ", "[exit code"))]
    for i, ln in enumerate(lines):
        if ln.startswith("error:"):
            return " ".join(x.strip() for x in lines[i : i + 6])
    return " ".join(x.strip() for x in lines[-4:])


def _service_slug(service: Service) -> str:
    return service.name.replace("/", "__").replace("\\", "__")


def log_dir(run_dir: Path, service: Service) -> Path:
    """Where a service's logs of a run go: `<run_dir>/logs/<service>`."""
    return Path(run_dir) / "logs" / _service_slug(service)


def env_path(root: Path, service: Service, label: str, env_root: Path | None = None) -> Path:
    return Path(env_root or Path(root) / ENVS_DIR) / f"{_service_slug(service)}-{label}"


# ---- the service tree stays as it was ---------------------------------------------------------------------

_NO_DESCEND = {".git", ".hg", ".svn", ".fleetshift", ".venv", "venv", ".tox", ".nox", "node_modules",
               ".mypy_cache", ".pytest_cache", ".ruff_cache"}  # fmt: skip
_ARTEFACT = re.compile(
    r"(\.egg-info|\.dist-info|\.eggs|__pycache__|pip-wheel-metadata|\.pyc|^build|^\.pdm-build|^_skbuild)$"
)


_SAVE_LIMIT = 32 * 1024 * 1024  # bytes of pre-existing artefacts kept aside per folder


@dataclass
class _Watch:
    """One folder under watch: its listing before the first of the installs running into it began."""

    count: int
    before: dict[str, bool]
    saved: dict[str, bytes]


class TreeGuard:
    """Remembers folders before an install and afterwards removes what the install's builds left there:
    new paths under a build artefact (`*.egg-info`, `build/`, `.eggs/`, `.pdm-build/`, `__pycache__`), and the bytes of
    artefacts that were already there put back. A new path of any other kind is only reported; nothing
    that existed is ever removed.

    Installs of several services may build the same folder at once (a shared library): a folder is
    cleaned when the last install into it ends, against the listing taken before the first began, and
    never under a folder another install is still building."""

    _lock: ClassVar[threading.Lock] = threading.Lock()
    _watched: ClassVar[dict[Path, _Watch]] = {}

    def __init__(self, folders: Iterable[Path]) -> None:
        self.folders = sorted({Path(f).resolve() for f in folders if Path(f).is_dir()})
        with self._lock:
            for f in self.folders:
                watch = self._watched.get(f)
                if watch is not None:
                    watch.count += 1
                else:
                    before = self._listing(f)
                    self._watched[f] = _Watch(1, before, self._save(f, before))

    @classmethod
    def _save(cls, folder: Path, listing: Mapping[str, bool]) -> dict[str, bytes]:
        saved: dict[str, bytes] = {}
        total = 0
        for rel, is_dir in listing.items():
            if is_dir or not cls._artefact(rel):
                continue
            try:
                size = (folder / rel).stat().st_size
                if ".egg-info" in rel or total + size <= _SAVE_LIMIT:
                    saved[rel] = (folder / rel).read_bytes()
                    total += size
            except OSError:
                pass
        return saved

    @staticmethod
    def _listing(folder: Path) -> dict[str, bool]:
        out: dict[str, bool] = {}
        for dirpath, dirnames, filenames in os.walk(folder):
            rel = os.path.relpath(dirpath, folder)
            prefix = "" if rel == "." else rel + os.sep
            for d in dirnames:
                out[prefix + d] = True
            for name in filenames:
                out[prefix + name] = False
            dirnames[:] = [
                d for d in dirnames if d not in _NO_DESCEND and not os.path.islink(os.path.join(dirpath, d))
            ]
        return out

    @staticmethod
    def _artefact(rel: str) -> bool:
        return any(_ARTEFACT.search(part) for part in Path(rel).parts)

    def restore(self) -> list[str]:
        """Undo the builds' traces (of folders no other install is still building); what was done, for the log."""
        done: list[str] = []
        with self._lock:
            for folder in self.folders:
                watch = self._watched[folder]
                watch.count -= 1
                if watch.count > 0:
                    continue
                del self._watched[folder]
                busy = [w for w in self._watched if w != folder and w.is_relative_to(folder)]
                done += self._clean(folder, watch, busy)
        return done

    def _clean(self, folder: Path, watch: _Watch, busy: list[Path]) -> list[str]:
        done: list[str] = []
        removed: list[str] = []
        for rel in sorted(set(self._listing(folder)) - set(watch.before)):
            path = folder / rel
            if any(rel.startswith(r + os.sep) for r in removed) or any(path.is_relative_to(b) for b in busy):
                continue
            if not self._artefact(rel):
                if Path(rel).parts[0] != ".fleetshift":
                    done.append(f"left {path} (not a build artefact)")
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(rel)
            done.append(f"removed {path}")
        for rel, data in watch.saved.items():
            path = folder / rel
            try:
                if path.read_bytes() == data:
                    continue
            except OSError:
                pass
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            done.append(f"restored {path}")
        return done


# ---- making an environment ------------------------------------------------------------------------------


def _local_dirs(plan: InstallPlan, folder: Path) -> list[Path]:
    dirs = [folder]
    for line in (*plan.requirements, *plan.locked, *plan.compile_input):
        opt, _, value = line.partition(" ")
        if opt == "-e" and value and not _is_url(value):
            path = Path(value.split("[")[0])
            dirs.append(path if path.is_absolute() else folder / path)
    return dirs


def _write_lines(path: Path, lines: Iterable[str]) -> Path:
    path.write_text("".join(f"{ln}\n" for ln in lines), encoding="utf-8")
    return path


def make_env(
    root: Path,
    service: Service,
    run_dir: Path,
    label: str = "new",
    *,
    python: str = "",
    timeout: float = DEFAULT_TIMEOUT,
    pin_overrides: Mapping[str, str] | None = None,
    env_root: Path | None = None,
    options: ServiceOptions | None = None,
    before: Service | None = None,
    upgrade: Iterable[str] = (),
    relocked: bool | None = None,
    old_files: Mapping[str, bytes | None] | None = None,
    resolved: ResolvedPython | None = None,
    stage: str = "",
    config_file: str = "",
) -> Env:
    """Make a fresh venv for the service with uv (shared cache) and install it the way the project does;
    never raises.

    - Python: `resolved`, else `python` (a version or an interpreter path), else `pythons.python_for(service,
      options)`: config `python`, the project's pinned version, the newest available in its declared range.
    - What: `install.plan_install` — label "old" (or `stage="baseline"`) the lock exactly; otherwise the lock
      with only the moved packages upgraded (pins that differ from `before`, plus `upgrade`: targets and
      replaced packages), or the lock as it is when the run regenerated it (`relocked`; by default: the
      lock's bytes differ from its bytes before the run in `old_files`, fleet-relative path -> bytes).
    - Output of every command: `<run_dir>/logs/<service>/<label>-install.log`.
    """
    root = Path(root).resolve()
    folder = root / service.path
    venv = env_path(root, service, label, env_root)
    logs = log_dir(run_dir, service)
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"{label}-install.log"
    shown: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    py_version = py_reason = ""

    def failed(error: str, timed_out: bool = False) -> Env:
        return Env(service.name, label, str(venv), False, error, str(log_path), shown, timed_out, sources,
                   py_version, py_reason)  # fmt: skip

    deadline = time.monotonic() + timeout
    with open(log_path, "w", encoding="utf-8") as log:
        try:
            interp = resolved or resolve(python) or python_for(service, options, config_file=config_file)
        except PythonUnavailable as exc:
            log.write(f"{exc}\n")
            return failed(str(exc))
        py_version, py_reason = interp.version, interp.reason
        log.write(f"[fleetshift] Python {interp.version} ({interp.path}, {interp.origin}): {interp.reason}\n")
        if relocked is None:
            relocked = _relocked(root, service, old_files)
        try:
            plan = plan_install(
                root, service, options=options, python_version=interp.version,
                stage=stage or ("baseline" if label == "old" else "after"), before=before, upgrade=upgrade,
                pin_overrides=pin_overrides, relocked=relocked,
            )  # fmt: skip
        except LockError as exc:
            log.write(f"{exc}\n")
            return failed(str(exc))
        shown, sources = plan.shown(), plan.sources
        log.write(f"[fleetshift] installing from: {', '.join(sources) or 'nothing declared'}\n")
        try:
            uv = find_uv_bin()
        except FileNotFoundError as exc:
            log.write(f"{exc}\n")
            return failed("the uv binary is missing; reinstall fleetshift (it depends on the uv package)")
        try:
            if venv.exists():
                shutil.rmtree(venv)
            venv.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            log.write(f"{exc}\n")
            return failed(f"cannot prepare {venv}: {exc}")
        env = install_env(service, venv)
        vpy = str(Env(service.name, label, str(venv), True).python)
        install = [uv, "pip", "install", "--python", vpy]
        overrides: list[str] = []
        if plan.overrides:
            override_file = _write_lines(logs / f"{label}-overrides.txt", plan.overrides)
            overrides = ["--override", str(override_file)]
        locked_file = logs / f"{label}-locked.txt"
        input_file = logs / f"{label}-requirements.in"

        def write_lock() -> None:  # the lock's pins as a requirements file, local paths made absolute
            if plan.export:
                fix_paths(locked_file, folder)
            else:
                _write_lines(locked_file, absolute_lines(plan.locked, folder))

        def write_input() -> None:
            write_lock()
            _write_lines(input_file, absolute_lines((*plan.compile_input, *plan.requirements), folder))

        Step = tuple[str, list[str], Callable[[], None] | None]
        steps: list[Step] = [
            ("creating the venv", [uv, "venv", "--quiet", "--python", str(interp.path), str(venv)], None)
        ]
        if plan.export:
            steps.append(("exporting the lock", [uv, *plan.export, "-o", str(locked_file)], None))
        self_req = ["-e", plan.self_requirement] if plan.editable_self and plan.self_deps else []
        if plan.compile_input:
            upgrade_args = [a for n in plan.upgrade for a in ("--upgrade-package", n)]
            compile_cmd = [uv, "pip", "compile", "--quiet", "--python", vpy, "--no-header", "--no-annotate",
                           *upgrade_args, *overrides, str(input_file), "-o", str(locked_file)]  # fmt: skip
            steps.append(("resolving the new pins with the locked ones preferred", compile_cmd, write_input))
            steps.append(("installing", [*install, *overrides, "-r", str(locked_file), *self_req], None))
        elif plan.lock is not None:
            extra = _args_abs(plan.requirements, folder)
            steps.append(
                ("installing", [*install, *overrides, "-r", str(locked_file), *extra, *self_req], write_lock)
            )
        elif plan.requirements or self_req:
            steps.append(("installing", [*install, *overrides, *plan.args(), *self_req], None))
        if plan.editable_self and not plan.self_deps:
            steps.append(
                ("installing the service itself", [*install, "--no-deps", "-e", plan.editable_self], None)
            )
        guard = TreeGuard(_local_dirs(plan, folder))
        try:
            for what, step, prepare in steps:
                if prepare is not None:
                    prepare()
                start = log.tell()
                code, timed_out = _run(step, folder, env, log, deadline - time.monotonic())
                if timed_out:
                    return failed(f"installing did not finish within {timeout:.0f} s", True)
                if code != 0:
                    log.flush()
                    return failed(f"{what} failed: {_error_lines(log_path, start) or f'exit code {code}'}")
        finally:
            for line in guard.restore():
                log.write(f"[fleetshift] {line}\n")
    return Env(service.name, label, str(venv), True, "", str(log_path), shown, False, sources, py_version,
               py_reason)  # fmt: skip


def _relocked(root: Path, service: Service, old_files: Mapping[str, bytes | None] | None) -> bool:
    """Whether this run rewrote the service's lock (its bytes before the run are in `old_files`)."""
    lock = lock_for(root, service)
    if lock is None or not old_files or lock.file not in old_files:
        return False
    try:
        return (root / lock.file).read_bytes() != old_files[lock.file]
    except OSError:
        return False


def fix_paths(locked_file: Path, folder: Path) -> None:
    """Make the local paths of an exported or written lock absolute (the file lies outside the service)."""
    try:
        lines = locked_file.read_text("utf-8").splitlines()
    except OSError:
        return
    _write_lines(locked_file, absolute_lines(lines, folder))


def _args_abs(reqs: Iterable[str], folder: Path) -> list[str]:
    out: list[str] = []
    for line in absolute_lines(reqs, folder):
        opt, _, value = line.partition(" ")
        out += [opt, value] if opt in ("-r", "-c", "-e") else [line]
    return out


def remove_env(root: Path, service: Service, label: str, env_root: Path | None = None) -> None:
    """Delete a service's environment (no error when it is not there)."""
    shutil.rmtree(env_path(root, service, label, env_root), ignore_errors=True)
