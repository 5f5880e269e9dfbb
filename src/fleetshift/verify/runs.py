"""Running a service's tests in its environment: pytest read through JUnit XML, or an import smoke test."""

from __future__ import annotations

import json
import posixpath
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import IO

from fleetshift.model import (
    Service,
    TestOutcome,
    TestRun,
    TestStatus,
)
from fleetshift.verify.envs import DEFAULT_TIMEOUT, Env, _run, child_env, log_dir

_RANK = {TestStatus.PASSED: 0, TestStatus.SKIPPED: 1, TestStatus.ERROR: 2, TestStatus.FAILED: 3}


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
