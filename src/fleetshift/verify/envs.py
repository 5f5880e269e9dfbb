"""Isolated environments per service: what to install (from the manifests as fleetshift read them), made with
uv and its shared cache, every command logged and bounded by the step timeout."""

from __future__ import annotations

import configparser
import os
import posixpath
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from uv import find_uv_bin

from fleetshift.model import (
    ManifestKind,
    Pin,
    Service,
)

ENVS_DIR = ".fleetshift/envs"
BASELINE_CACHE_DIR = ".fleetshift/cache/baseline"
DEFAULT_TIMEOUT = 300.0
CACHE_VERSION = "1"
SKIPPED_SECTIONS = {"setup_requires"}  # build-time only


@dataclass(frozen=True)
class InstallPlan:
    """What goes into a service's environment, in order: uv requirement arguments, then the service itself.

    Each requirement is a PEP 508 string, a local path or URL, or an option with its value
    ("-r requirements-dev.txt", "-c constraints.txt", "-e /abs/libs/x"); relative files are relative to
    the service folder, where uv runs.
    """

    requirements: tuple[str, ...] = ()
    editable_self: str = ""  # absolute folder installed with `--no-deps -e`, "" when not installable
    overrides: tuple[str, ...] = ()  # requirement strings passed to uv as --override

    def args(self) -> list[str]:
        out: list[str] = []
        for req in self.requirements:
            opt, _, value = req.partition(" ")
            out += [opt, value] if opt in ("-r", "-c", "-e") else [req]
        return out


@dataclass(frozen=True)
class Env:
    """An isolated environment of one service, or why it could not be made (`ok` False, `error`, `log`)."""

    service: str
    label: str
    path: str
    ok: bool
    error: str = ""
    log: str = ""
    requirements: tuple[str, ...] = ()
    timed_out: bool = False

    @property
    def bin_dir(self) -> Path:
        return Path(self.path) / ("Scripts" if os.name == "nt" else "bin")

    @property
    def python(self) -> Path:
        return self.bin_dir / ("python.exe" if os.name == "nt" else "python")


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


def installable(folder: Path) -> bool:
    """Whether a folder is a package pip can install: pyproject with [build-system] or [project], setup.py,
    or setup.cfg with [metadata]."""
    try:
        data = tomllib.loads((folder / "pyproject.toml").read_text("utf-8-sig"))
        if "build-system" in data or "project" in data:
            return True
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        pass
    if (folder / "setup.py").is_file():
        return True
    cfg = configparser.ConfigParser(interpolation=None)
    try:
        cfg.read_string((folder / "setup.cfg").read_text("utf-8-sig"))
    except (OSError, UnicodeDecodeError, configparser.Error):
        return False
    return cfg.has_section("metadata")


def _override(name: str, value: str) -> str:
    try:
        SpecifierSet(value)
    except InvalidSpecifier:
        return value  # a whole requirement string
    return f"{name}{value}"


def requirements_for(
    root: Path, service: Service, pin_overrides: Mapping[str, str] | None = None
) -> InstallPlan:
    """The install list of a service from its manifests as fleetshift read them: every section (main, extras,
    groups, dev-packages), requirement files passed to uv as `-r`, the service itself when installable.

    `pin_overrides` maps a package to a specifier (">=9,<10") or a requirement string; uv applies them over
    whatever the manifests say (`--override`).
    """
    root = Path(root)
    base = service.path or "."
    included = {inc for m in service.manifests if m.kind == ManifestKind.REQUIREMENTS for inc in m.includes}
    files = {m.file for m in service.manifests}
    reqs: list[str] = []
    for m in service.manifests:
        if m.kind == ManifestKind.REQUIREMENTS:
            if m.file in included or (m.file.endswith(".in") and m.file[:-3] + ".txt" in files):
                continue  # pulled in by another file, or locked by its .txt twin
            opt = "-c" if posixpath.basename(m.file).lower().startswith("constraints") else "-r"
            reqs.append(f"{opt} {posixpath.relpath(m.file, base)}")
            continue
        reqs += [requirement_string(root, p) for p in m.pins if p.section not in SKIPPED_SECTIONS]
        reqs += [f"-r {posixpath.relpath(inc, base)}" for inc in m.includes]  # setup.cfg `file:` includes
    if service.has_tests and not any(p.package == "pytest" for p in service.pins):
        reqs.append("pytest")
    folder = (root / service.path).resolve()
    self_dep = any(
        p.path and not _is_url(p.path) and (root / p.path).resolve() == folder for p in service.pins
    )
    overrides = tuple(_override(k, v) for k, v in sorted((pin_overrides or {}).items()))
    return InstallPlan(
        tuple(dict.fromkeys(reqs)), str(folder) if installable(folder) and not self_dep else "", overrides
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


def _kill_group(proc: subprocess.Popen[bytes], grace: float = 3.0) -> None:
    """Stop a process and everything it started (its process group): TERM, then KILL."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            if hasattr(os, "killpg"):
                os.killpg(proc.pid, sig)
            else:  # pragma: no cover - no process groups on this platform
                proc.kill()
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(timeout=wait)
            if sig == signal.SIGTERM:
                try:  # children may outlive the leader
                    os.killpg(proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError, AttributeError):
                    pass
            return
        except subprocess.TimeoutExpired:
            continue


def _run(
    cmd: Sequence[str] | str, cwd: Path, env: Mapping[str, str], log: IO[str], timeout: float
) -> tuple[int | None, bool]:
    """Run a command with its output appended to `log`; (exit code, timed out). The group is killed on timeout."""
    shown = cmd if isinstance(cmd, str) else " ".join(str(c) for c in cmd)
    log.write(f"$ {shown}\n  (cwd {cwd})\n")
    log.flush()
    try:
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            shell=isinstance(cmd, str),
            start_new_session=True,
        )
    except OSError as exc:
        log.write(f"cannot start: {exc}\n")
        return 127, False
    try:
        code = proc.wait(timeout=max(timeout, 0.1))
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        log.write(f"\n[fleetshift] killed after {timeout:.0f} s (step timeout)\n")
        log.flush()
        return None, True
    log.write(f"[exit code {code}]\n")
    log.flush()
    return code, False


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
) -> Env:
    """Make a fresh venv for the service with uv (shared cache) and install its requirements; never raises.

    Python is `python` or the interpreter running fleetshift. The output of every command goes to
    `<run_dir>/logs/<service>/<label>-install.log`.
    """
    root = Path(root).resolve()
    folder = root / service.path
    venv = env_path(root, service, label, env_root)
    logs = log_dir(run_dir, service)
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"{label}-install.log"
    plan = requirements_for(root, service, pin_overrides)
    shown = (*plan.requirements, *([f"-e {plan.editable_self} (--no-deps)"] if plan.editable_self else []))

    def failed(error: str, timed_out: bool = False) -> Env:
        return Env(service.name, label, str(venv), False, error, str(log_path), shown, timed_out)

    deadline = time.monotonic() + timeout
    env = child_env(service)
    with open(log_path, "w", encoding="utf-8") as log:
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
        steps: list[list[str]] = [[uv, "venv", "--quiet", "--python", python or sys.executable, str(venv)]]
        install = [uv, "pip", "install", "--python", str(Env(service.name, label, str(venv), True).python)]
        if plan.overrides:
            override_file = logs / f"{label}-overrides.txt"
            override_file.write_text("\n".join(plan.overrides) + "\n", encoding="utf-8")
            install += ["--override", str(override_file)]
        if plan.requirements:
            steps.append([*install, *plan.args()])
        if plan.editable_self:
            steps.append([*install, "--no-deps", "-e", plan.editable_self])
        for step in steps:
            start = log.tell()
            code, timed_out = _run(step, folder, env, log, deadline - time.monotonic())
            if timed_out:
                return failed(f"installing did not finish within {timeout:.0f} s", True)
            if code != 0:
                log.flush()
                what = "creating the venv" if step[1] == "venv" else "installing"
                return failed(f"{what} failed: {_error_lines(log_path, start) or f'exit code {code}'}")
    return Env(service.name, label, str(venv), True, "", str(log_path), shown)


def remove_env(root: Path, service: Service, label: str, env_root: Path | None = None) -> None:
    """Delete a service's environment (no error when it is not there)."""
    shutil.rmtree(env_path(root, service, label, env_root), ignore_errors=True)
