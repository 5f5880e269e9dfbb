"""The verify stage: a service's own tests in an isolated uv environment, on its old pins (the baseline) and
on its new pins, compared so that only regressions fail it; plus an optional health check.

Environments live in `<fleet>/.fleetshift/envs/<service>-<old|new>` and are made afresh for every run (uv's
shared cache makes that cheap). The "old" one is removed once its baseline is recorded; the "new" one is
kept for the health check and for a human to reproduce a failure, and replaced by the next run. Baselines
are cached in `<fleet>/.fleetshift/cache/baseline/<service>-<hash>.json`, keyed by every file of the
service, the manifests it includes, the local packages it installs, the interpreter and the options.
Logs go to `<run_dir>/logs/<service>/<old|new>-<step>.log`. Nothing here raises for a failing service:
every problem ends up in the returned record, with the path of its log.
"""

from __future__ import annotations

import configparser
import hashlib
import json
import os
import posixpath
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO
from urllib.parse import urlparse

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from uv import find_uv_bin

from fleetshift.config import HealthCheck
from fleetshift.discover import SKIP_DIRS
from fleetshift.model import (
    HealthResult,
    ManifestKind,
    Pin,
    Service,
    TestOutcome,
    TestRun,
    TestStatus,
    Verdict,
    to_jsonable,
)

ENVS_DIR = ".fleetshift/envs"
BASELINE_CACHE_DIR = ".fleetshift/cache/baseline"
DEFAULT_TIMEOUT = 300.0
CACHE_VERSION = "1"
SKIPPED_SECTIONS = {"setup_requires"}  # build-time only
_RANK = {TestStatus.PASSED: 0, TestStatus.SKIPPED: 1, TestStatus.ERROR: 2, TestStatus.FAILED: 3}


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


# ---- what to install ------------------------------------------------------------------------------


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


# ---- running commands ---------------------------------------------------------------------------------


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


# ---- environments ---------------------------------------------------------------------------------------


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


# ---- tests -----------------------------------------------------------------------------------------------


def parse_junit(path: Path) -> list[TestOutcome]:
    """Outcomes from a JUnit XML file; id `classname::name` (just `name` when there is no class), worst wins."""
    try:
        tree = ET.parse(path)
    except (OSError, ET.ParseError):
        return []
    found: dict[str, TestOutcome] = {}
    for case in tree.iter("testcase"):
        cls, name = case.get("classname") or "", case.get("name") or ""
        test_id = f"{cls}::{name}" if cls else name
        status, message = TestStatus.PASSED, ""
        for child in case:
            tag = {
                "failure": TestStatus.FAILED,
                "error": TestStatus.ERROR,
                "skipped": TestStatus.SKIPPED,
            }.get(child.tag)
            if tag is not None and _RANK[tag] > _RANK[status]:
                status, message = tag, (child.get("message") or (child.text or "").strip())[:500]
        try:
            duration = float(case.get("time") or 0)
        except ValueError:
            duration = 0.0
        outcome = TestOutcome(test_id, status, message, duration)
        old = found.get(test_id)
        if old is None or _RANK[status] > _RANK[old.status]:
            found[test_id] = outcome
    return list(found.values())


_SMOKE = """
import importlib, json, os, sys, time, traceback
out, kind, names = sys.argv[1], sys.argv[2], sys.argv[3:]
if os.path.isdir("src"):
    sys.path.insert(1, os.path.abspath("src"))
res = []
for n in names:
    t = time.perf_counter()
    try:
        if kind == "import":
            importlib.import_module(n)
        else:
            with open(n, "rb") as fh:
                compile(fh.read(), n, "exec")
        res.append([n, "passed", "", time.perf_counter() - t])
    except BaseException:
        res.append([n, "failed", traceback.format_exc()[-1500:], time.perf_counter() - t])
with open(out, "w", encoding="utf-8") as fh:
    json.dump(res, fh)
"""


def _tail(path: Path, n: int = 6) -> str:
    try:
        lines = [ln for ln in path.read_text("utf-8", "replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return " | ".join(ln.strip() for ln in lines[-n:])[-800:]


def _smoke(root: Path, service: Service, env: Env, run_dir: Path, timeout: float, log: IO[str]) -> TestRun:
    """Import each top-level package of the service (or, without any, compile each Python file)."""
    folder = Path(root) / service.path
    if service.import_names:
        kind, names = "import", list(service.import_names)
    else:
        kind, names = "compile", [posixpath.relpath(f, service.path or ".") for f in service.python_files]
    out = log_dir(run_dir, service) / f"{env.label}-smoke.json"
    out.unlink(missing_ok=True)
    started = time.monotonic()
    cmd = [str(env.python), "-c", _SMOKE, str(out), kind, *names]
    code, timed_out = _run(cmd, folder, child_env(service, env.bin_dir, Path(env.path)), log, timeout)
    outcomes: list[TestOutcome] = []
    try:
        for name, status, message, duration in json.loads(out.read_text("utf-8")):
            outcomes.append(TestOutcome(f"{kind}:{name}", TestStatus(status), message, duration))
    except (OSError, ValueError):
        pass
    error = ""
    if timed_out:
        error = f"the {kind} smoke test did not finish within {timeout:.0f} s (killed)"
    elif code != 0 or len(outcomes) != len(names):
        error = f"the {kind} smoke test crashed (exit code {code})"
        outcomes.append(TestOutcome(f"{kind}-smoke", TestStatus.ERROR, error))
    return TestRun(
        service.name,
        env.label,
        f"{kind}-smoke",
        True,
        code,
        time.monotonic() - started,
        tuple(outcomes),
        error,
        log.name,
        timed_out,
        False,
        env.requirements,
    )


def run_tests(
    root: Path,
    service: Service,
    env: Env,
    run_dir: Path,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    test_command: str = "",
) -> TestRun:
    """Run the service's tests with the environment's pytest in the service folder, read the JUnit XML;
    a service without tests (or where pytest collects none) gets an import smoke test instead. Never raises.

    `test_command` replaces `python -m pytest` (a shell command run with the venv first on PATH); when it
    mentions pytest the JUnit and no-cache options are appended to it.
    """
    if not env.ok:
        kind = "pytest" if service.has_tests or test_command else "import-smoke"
        return TestRun(service.name, env.label, kind, False, None, 0.0, (), env.error, env.log,
                       env.timed_out, False, env.requirements)  # fmt: skip
    root = Path(root).resolve()
    folder = root / service.path
    logs = log_dir(run_dir, service)
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"{env.label}-tests.log"
    junit = logs / f"{env.label}-junit.xml"
    junit.unlink(missing_ok=True)
    with open(log_path, "w", encoding="utf-8") as log:
        if not service.has_tests and not test_command:
            return _smoke(root, service, env, run_dir, timeout, log)
        extra = ["-p", "no:cacheprovider", f"--junitxml={junit}"]
        cmd: list[str] | str
        if test_command:
            cmd = test_command + ("".join(f" {a}" for a in extra) if "pytest" in test_command else "")
        else:
            cmd = [str(env.python), "-m", "pytest", *extra]
        started = time.monotonic()
        code, timed_out = _run(cmd, folder, child_env(service, env.bin_dir, Path(env.path)), log, timeout)
        duration = time.monotonic() - started
        if code == 5 and not test_command:  # pytest collected no test
            log.write("[fleetshift] pytest collected no tests; running the import smoke test instead\n")
            return _smoke(root, service, env, run_dir, max(timeout - duration, 1.0), log)
    outcomes = parse_junit(junit)
    error = ""
    if timed_out:
        error = f"the tests did not finish within {timeout:.0f} s (killed)"
    elif code != 0 and not any(o.failing for o in outcomes):
        error = f"the test command failed (exit code {code}) without a failing test: {_tail(log_path)}"
        outcomes.append(TestOutcome("pytest::session", TestStatus.ERROR, error))
    return TestRun(
        service.name,
        env.label,
        "pytest",
        True,
        code,
        duration,
        tuple(outcomes),
        error,
        str(log_path),
        timed_out,
        False,
        env.requirements,
    )


# ---- baseline and the run on the new pins ---------------------------------------------------------------


def _walk(folder: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(
            d
            for d in dirnames
            if d not in SKIP_DIRS and not d.endswith(".egg-info") and not d.startswith(".")
        )
        for name in sorted(filenames):
            if not name.endswith((".pyc", ".pyo")):
                yield Path(dirpath) / name


def _sources(root: Path, service: Service) -> tuple[set[str], set[str]]:
    """Fleet-relative folders (the service, its local path dependencies) and extra files (manifests included
    from elsewhere) that a service's environment is built from."""
    folders = {service.path}
    for pin in service.pins:
        if (
            pin.path
            and not _is_url(pin.path)
            and not posixpath.isabs(pin.path)
            and not pin.path.startswith("..")
        ):
            folders.add(pin.path if (Path(root) / pin.path).is_dir() else posixpath.dirname(pin.path))
    files = {m.file for m in service.manifests} | {i for m in service.manifests for i in m.includes}
    return folders, files


def baseline_key(
    root: Path, service: Service, *, python: str = "", test_command: str = "",
    pin_overrides: Mapping[str, str] | None = None,
) -> str:  # fmt: skip
    """Hash of everything a baseline depends on: the service's files, the manifests it includes, the local
    packages it installs (by fleet-relative path and content), the interpreter and the options."""
    root = Path(root).resolve()
    h = hashlib.sha256()
    interpreter = python or sys.executable
    h.update(
        f"{CACHE_VERSION}\0{interpreter}\0{sys.version if not python else ''}\0{test_command}\0".encode()
    )
    h.update(json.dumps(sorted((pin_overrides or {}).items())).encode())
    folders, extra = _sources(root, service)
    files = {root / f for f in extra}
    for folder in folders:
        files |= set(_walk(root / folder)) if (root / folder).is_dir() else {root / folder}
    for pin in service.pins:  # local packages outside the fleet
        if pin.path and not _is_url(pin.path) and (posixpath.isabs(pin.path) or pin.path.startswith("..")):
            local = Path(pin.path) if posixpath.isabs(pin.path) else root / pin.path
            files |= set(_walk(local)) if local.is_dir() else {local}
    for path in sorted(files):
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            digest = "missing"
        try:
            name = path.relative_to(root).as_posix()
        except ValueError:
            name = path.as_posix()
        h.update(f"{name}\0{digest}\n".encode())
    return h.hexdigest()[:20]


def shadow_tree(root: Path, service: Service, old_files: Mapping[str, bytes | None], dest: Path) -> Path:
    """Copy what a service's environment is built from (its folder, its local path dependencies, included
    manifests) to `dest` at the same fleet-relative places, with `old_files` (fleet-relative path -> bytes,
    None for a file that did not exist) put back: the service as it was before this run rewrote it."""
    root = Path(root).resolve()
    folders, files = _sources(root, service)

    def ignore(_dir: str, names: list[str]) -> set[str]:
        return {n for n in names if n in SKIP_DIRS or n.endswith(".egg-info") or n.startswith(".")}

    for folder in sorted(folders, key=len):
        if (root / folder).is_dir():
            shutil.copytree(root / folder, dest / folder, ignore=ignore, symlinks=True, dirs_exist_ok=True)
    for rel in files:
        if (root / rel).is_file() and not rel.startswith(".."):
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / rel, dest / rel)
    for rel, data in old_files.items():
        if rel.startswith("..") or posixpath.isabs(rel):
            continue
        target = dest / rel
        if data is None:
            target.unlink(missing_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    return dest


def run_from_json(data: Mapping[str, object]) -> TestRun:
    """A TestRun back from its `to_jsonable` form."""
    d = dict(data)
    outcomes = tuple(
        TestOutcome(
            str(o["id"]), TestStatus(o["status"]), str(o.get("message", "")), float(o.get("duration", 0.0))
        )
        for o in d.pop("outcomes", [])  # type: ignore[union-attr]
    )
    d["requirements"] = tuple(d.get("requirements", ()))  # type: ignore[arg-type]
    return TestRun(outcomes=outcomes, **d)  # type: ignore[arg-type]


def baseline_cache_path(root: Path, service: Service, key: str) -> Path:
    return Path(root) / BASELINE_CACHE_DIR / f"{_service_slug(service)}-{key}.json"


def baseline(
    root: Path,
    service: Service,
    run_dir: Path,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    python: str = "",
    test_command: str = "",
    pin_overrides: Mapping[str, str] | None = None,
    env_root: Path | None = None,
    keep_env: bool = False,
    old_files: Mapping[str, bytes | None] | None = None,
) -> TestRun:
    """The service's tests on its old pins, as it is before rewriting; cached, so a second call on unchanged
    files returns the stored run (`cached` True) without installing anything.

    `old_files` (fleet-relative path -> bytes before this run, None if it did not exist) puts back files this
    run already rewrote — e.g. a shared library migrated in an earlier phase — in a scratch copy of the
    service and its local dependencies; the fleet itself is not touched.
    """
    root = Path(root).resolve()
    env_root = Path(env_root or root / ENVS_DIR)
    with tempfile.TemporaryDirectory(prefix="fleetshift-baseline-") as scratch:
        source = shadow_tree(root, service, old_files, Path(scratch)) if old_files else root
        key = baseline_key(
            source, service, python=python, test_command=test_command, pin_overrides=pin_overrides
        )
        cache = baseline_cache_path(root, service, key)
        try:
            return replace(run_from_json(json.loads(cache.read_text("utf-8"))), cached=True)
        except (OSError, ValueError, KeyError, TypeError):
            pass
        options = {"python": python, "timeout": timeout, "pin_overrides": pin_overrides, "env_root": env_root}
        env = make_env(source, service, run_dir, "old", **options)  # type: ignore[arg-type]
        run = run_tests(source, service, env, run_dir, timeout=timeout, test_command=test_command)
        if not keep_env:
            remove_env(root, service, "old", env_root)
    if run.ran:  # an install or a hang may be passing trouble (network): try again next time
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(to_jsonable(run), indent=1), encoding="utf-8")
        os.replace(tmp, cache)
    return run


def after(
    root: Path,
    service: Service,
    run_dir: Path,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    python: str = "",
    test_command: str = "",
    pin_overrides: Mapping[str, str] | None = None,
    env_root: Path | None = None,
) -> TestRun:
    """The service's tests on its new pins (its files as they are now); the "new" environment is kept for
    the health check."""
    env = make_env(
        root,
        service,
        run_dir,
        "new",
        python=python,
        timeout=timeout,
        pin_overrides=pin_overrides,
        env_root=env_root,
    )
    return run_tests(root, service, env, run_dir, timeout=timeout, test_command=test_command)


def compare(baseline: TestRun | None, after: TestRun) -> Verdict:
    """Judge the run on the new pins against the baseline: only tests that did not fail before and fail (or
    error) now are regressions. Without a usable baseline every test must pass."""
    name = after.service
    if not after.installed:
        reason = f"could not install the new pins: {after.error} (log: {after.log})"
        return Verdict(name, False, reason, error=after.error, log=after.log, baseline=baseline, after=after)
    if after.timed_out:
        reason = f"{after.error} (log: {after.log})"
        return Verdict(name, False, reason, error=after.error, log=after.log, baseline=baseline, after=after)
    usable = baseline is not None and baseline.ran
    before = {o.id: o for o in baseline.outcomes} if usable and baseline else {}
    failing_now = after.failing
    regressions = tuple(t for t in failing_now if not (t in before and before[t].failing))
    pre_existing = tuple(t for t in failing_now if t in before and before[t].failing)
    now = {o.id: o for o in after.outcomes}
    fixed = tuple(t for t, o in before.items() if o.failing and t in now and not now[t].failing)
    missing = tuple(t for t, o in before.items() if o.status == TestStatus.PASSED and t not in now)
    counts = f"{len(after.passed)} passed"
    if pre_existing:
        counts += f", {len(pre_existing)} failing before and after (pre-existing, not blamed)"
    if fixed:
        counts += f", {len(fixed)} fixed"
    if missing:
        counts += f", {len(missing)} passed before and did not run after"
    note = "" if usable else " (no usable baseline: every test must pass)"
    if usable and baseline and baseline.kind == "pytest" and baseline.passed and after.kind != "pytest":
        reason = (
            f"the tests that passed on the old pins were not collected on the new ones (log: {after.log})"
        )
        return Verdict(
            name, False, reason, (), pre_existing, fixed, missing, after.error, after.log, baseline, after
        )
    if regressions:
        shown = ", ".join(regressions[:5]) + (
            f" and {len(regressions) - 5} more" if len(regressions) > 5 else ""
        )
        reason = f"{len(regressions)} regression(s): {shown}; {counts}{note} (log: {after.log})"
        passed = False
    else:
        reason = f"{after.kind}: {counts}{note}"
        passed = True
    return Verdict(name, passed, reason, regressions, pre_existing, fixed, missing, after.error, after.log,
                   baseline, after)  # fmt: skip


# ---- health check ----------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port free on the loopback interface right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _probe_url(url: str, timeout: float) -> tuple[bool, str]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through a proxy
    try:
        with opener.open(url, timeout=timeout) as resp:
            return 200 <= resp.status < 400, f"HTTP {resp.status}"
    except urllib.error.HTTPError as exc:
        return False, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return False, str(getattr(exc, "reason", exc))


def check_health(env_bin_dir: Path | None, service_dir: Path, check: HealthCheck, log: Path) -> HealthResult:
    """Start the service (shell command, venv first on PATH, `{port}` a free loopback port, cwd the service),
    poll its URL (loopback only) or command until healthy or `check.timeout`, then stop it. Never raises."""
    port = str(free_port())
    start, url, probe, stop = (
        s.replace("{port}", port) for s in (check.start, check.url, check.command, check.stop)
    )
    if url and (urlparse(url).hostname or "") not in _LOOPBACK:
        return HealthResult(
            False, f"health url {url} is not on 127.0.0.1; only loopback URLs are polled", str(log)
        )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_CORE_"))}
    env["FLEETSHIFT_SERVICE"] = Path(service_dir).name
    env["FLEETSHIFT_PORT"] = port
    if env_bin_dir is not None:
        env["PATH"] = str(env_bin_dir) + os.pathsep + env.get("PATH", "")
        env["VIRTUAL_ENV"] = str(Path(env_bin_dir).parent)
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w", encoding="utf-8") as fh:
        proc = None
        if start:
            fh.write(f"$ {start}\n")
            fh.flush()
            try:
                proc = subprocess.Popen(start, shell=True, cwd=service_dir, env=env, stdout=fh, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
            except OSError as exc:
                return HealthResult(False, f"cannot start {start!r}: {exc}", str(log))
        deadline = time.monotonic() + check.timeout
        detail, ok = "not probed", False
        try:
            while True:
                remaining = deadline - time.monotonic()
                if url:
                    ok, detail = _probe_url(url, max(0.2, min(2.0, remaining)))
                else:
                    code, _ = _run(probe, Path(service_dir), env, fh, max(0.2, min(10.0, remaining)))
                    ok, detail = code == 0, f"probe exit code {code}"
                if ok:
                    detail = (
                        f"healthy after {check.timeout - max(remaining, 0):.1f} s ({url or probe}: {detail})"
                    )
                    break
                if proc is not None and proc.poll() is not None:
                    detail = f"{start!r} exited with code {proc.returncode} before it was healthy (last probe: {detail})"
                    break
                if time.monotonic() >= deadline:
                    detail = f"not healthy within {check.timeout:g} s ({url or probe}: {detail})"
                    break
                time.sleep(0.2)
        finally:
            if stop:
                _run(stop, Path(service_dir), env, fh, 15.0)
            if proc is not None:
                _kill_group(proc)
            fh.write(f"[fleetshift] health: {'ok' if ok else 'FAILED'}: {detail}\n")
    return HealthResult(ok, detail, str(log))


def health(
    root: Path, service: Service, run_dir: Path, check: HealthCheck, *, env_root: Path | None = None
) -> HealthResult:
    """The health check of a service in its "new" environment (made by `after`), logged to
    `<run_dir>/logs/<service>/new-health.log`."""
    venv = env_path(root, service, "new", env_root)
    bin_dir = Env(service.name, "new", str(venv), True).bin_dir
    log = log_dir(run_dir, service) / "new-health.log"
    return check_health(bin_dir if bin_dir.is_dir() else None, Path(root) / service.path, check, log)
