"""Running a service's tests in its environment, the way the project runs them, and saying honestly how the
run ended.

The command is the configured one (`[services.<name>] test_command`), else the one discovery read from the
project (tox, hatch, CI, Makefile), else `python -m pytest`; it runs in the service folder with the
environment's `bin` first on PATH. pytest is read through its JUnit XML (only `--junitxml`, `-o junit_family`
and `-o cache_dir` are added, none of which the project's addopts can contradict), behave through its own
JUnit folder, `python -m unittest` through unittest's own result objects; any other command by its exit code.
A service without tests and without a test command gets an import smoke test.

Every run gets a `RunState`: only RAN (the runner ended normally and executed at least one test) is evidence.
"""

from __future__ import annotations

import json
import posixpath
import re
import shlex
import time
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

from fleetshift.model import (
    RunState,
    Service,
    TestOutcome,
    TestRun,
    TestStatus,
)
from fleetshift.verify.envs import DEFAULT_TIMEOUT, Env, _run, child_env, log_dir

_RANK = {TestStatus.PASSED: 0, TestStatus.SKIPPED: 1, TestStatus.ERROR: 2, TestStatus.FAILED: 3}
DEFAULT_COMMAND = "python -m pytest"
COLLECTION_FAILURE = "collection failure"  # pytest's JUnit message for a module that could not be collected


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
        if case.get("status") in ("skipped", "untested"):  # behave marks skipped scenarios this way too
            status = TestStatus.SKIPPED
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

# `python -m unittest ARGS` with unittest's own loader and runner, its results also written as JSON.
_UNITTEST = """
import json, sys, time, unittest
out = sys.argv[1]
sys.argv = ["python -m unittest", *sys.argv[2:]]
records = []

def test_id(test):
    return test.id().replace("unittest.loader._FailedTest.", "unittest-import-error:")

class Result(unittest.TextTestResult):
    def startTest(self, test):
        self._t0 = time.perf_counter()
        super().startTest(test)
    def _add(self, test, status, message=""):
        records.append([test_id(test), status, message[-1500:], time.perf_counter() - getattr(self, "_t0", 0)])
    def addSuccess(self, test):
        super().addSuccess(test); self._add(test, "passed")
    def addFailure(self, test, err):
        super().addFailure(test, err); self._add(test, "failed", self._exc_info_to_string(err, test))
    def addError(self, test, err):
        super().addError(test, err); self._add(test, "error", self._exc_info_to_string(err, test))
    def addSkip(self, test, reason):
        super().addSkip(test, reason); self._add(test, "skipped", reason)
    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err); self._add(test, "passed")
    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test); self._add(test, "failed", "unexpected success")

class Runner(unittest.TextTestRunner):
    resultclass = Result

try:
    prog = unittest.main(module=None, testRunner=Runner, exit=False)
    code = 0 if prog.result.wasSuccessful() else 1
    if prog.result.testsRun == 0:
        code = 5
finally:
    with open(out, "w", encoding="utf-8") as fh:
        json.dump(records, fh)
sys.exit(code)
"""


def _tail(path: Path, n: int = 6) -> str:
    try:
        lines = [ln for ln in path.read_text("utf-8", "replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    lines = [ln for ln in lines if not ln.startswith(("$ ", "  (cwd ", "[exit code", "[fleetshift]"))]
    return " | ".join(ln.strip() for ln in lines[-n:])[-800:]


def _python_version(env: Env) -> str:
    """The interpreter version of an environment: as it was made, else from its pyvenv.cfg ("" when unknown)."""
    made = getattr(env, "python_version", "")
    if made:
        return str(made)
    try:
        text = (Path(env.path) / "pyvenv.cfg").read_text("utf-8")
    except OSError:
        return ""
    found = re.search(r"^\s*version(?:_info)?\s*=\s*(\S+)", text, re.M)
    return found.group(1) if found else ""


def _sources(env: Env) -> tuple[str, ...]:
    return tuple(getattr(env, "sources", ()) or ())


def _env_run(service: Service, env: Env, kind: str, **fields: Any) -> TestRun:
    """A run of `service` in `env`: the environment's label, install list, sources and Python filled in."""
    return TestRun(service.name, env.label, kind, requirements=env.requirements, sources=_sources(env),
                   python=_python_version(env), **fields)  # fmt: skip


def _smoke(root: Path, service: Service, env: Env, run_dir: Path, timeout: float, log: IO[str],
           extra_env: Mapping[str, str]) -> TestRun:  # fmt: skip
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
    code, timed_out = _run(cmd, folder, {**child_env(service, env.bin_dir, Path(env.path)), **extra_env}, log, timeout)
    outcomes: list[TestOutcome] = []
    try:
        for name, status, message, duration in json.loads(out.read_text("utf-8")):
            outcomes.append(TestOutcome(f"{kind}:{name}", TestStatus(status), message, duration))
    except (OSError, ValueError):
        pass
    error, state = "", RunState.RAN
    if timed_out:
        error, state = f"the {kind} smoke test did not finish within {timeout:.0f} s (killed)", RunState.TIMEOUT
    elif code != 0 or len(outcomes) != len(names):
        error = f"the {kind} smoke test crashed (exit code {code})"
        outcomes.append(TestOutcome(f"{kind}-smoke", TestStatus.ERROR, error))
    elif not names:
        error, state = "nothing to import or compile", RunState.NO_TESTS
    return _env_run(
        service, env, f"{kind}-smoke", exit_code=code, duration=time.monotonic() - started, outcomes=tuple(outcomes),
        error=error, log=log.name, timed_out=timed_out, state=state,
        command=f"{kind} smoke test of {', '.join(names) or 'nothing'}",
    )  # fmt: skip


def import_smoke(
    root: Path, service: Service, env: Env, run_dir: Path, modules: list[str], *, timeout: float = 120.0,
    extra_env: Mapping[str, str] | None = None,
) -> tuple[TestOutcome, ...]:  # fmt: skip
    """Import each of `modules` (dotted) in the environment, in the service folder (`src/` on the path): an
    outcome `import:<module>` each, failed with the traceback's end. Logged to `<label>-imports.log`."""
    if not modules or not env.ok:
        return ()
    folder = Path(root) / service.path
    logs = log_dir(run_dir, service)
    logs.mkdir(parents=True, exist_ok=True)
    out = logs / f"{env.label}-imports.json"
    out.unlink(missing_ok=True)
    with open(logs / f"{env.label}-imports.log", "w", encoding="utf-8") as log:
        cmd = [str(env.python), "-c", _SMOKE, str(out), "import", *modules]
        child = {**child_env(service, env.bin_dir, Path(env.path)), **(extra_env or {})}
        code, timed_out = _run(cmd, folder, child, log, timeout)
    try:
        got = [TestOutcome(f"import:{n}", TestStatus(s), m, d) for n, s, m, d in json.loads(out.read_text("utf-8"))]
    except (OSError, ValueError, TypeError):
        got = []
    done = {o.id for o in got}
    why = f"the import smoke test did not finish within {timeout:.0f} s" if timed_out else f"exit code {code}"
    got += [TestOutcome(f"import:{m}", TestStatus.ERROR, why) for m in modules if f"import:{m}" not in done]
    return tuple(got)


def _words(command: str) -> list[str]:
    try:
        return shlex.split(command)
    except ValueError:
        return command.split()


def runner_of(command: str) -> str:
    """Which test runner a shell command runs: pytest, behave, unittest, or other."""
    words = [posixpath.basename(w) for w in _words(command)]
    for i, w in enumerate(words):
        if w in ("pytest", "py.test") or (w == "-m" and i + 1 < len(words) and words[i + 1] in ("pytest", "py.test")):
            return "pytest"
        if w == "behave" or (w == "-m" and i + 1 < len(words) and words[i + 1] == "behave"):
            return "behave"
        if w == "-m" and i + 1 < len(words) and words[i + 1] == "unittest":
            return "unittest"
    return "other"


def resolve_test_command(service: Service, configured: str = "") -> tuple[str, str]:
    """The command that runs a service's tests and where it comes from: the config's, else the one the project
    declares (discovery), else `python -m pytest`. tox's `{posargs}` placeholder is dropped."""
    if configured.strip():
        command, source = configured.strip(), "config"
    else:
        tc = service.project.test_command
        command, source = (tc.command.strip() or DEFAULT_COMMAND), tc.source or "default"
    command = re.sub(r"\{posargs(?::[^}]*)?\}", "", command).strip()
    return command, source


def _pytest_extra(junit: Path, cache_dir: Path) -> str:
    return " ".join(
        shlex.quote(a)
        for a in (f"--junitxml={junit}", "-o", "junit_family=xunit2", "-o", f"cache_dir={cache_dir}")
    )


def _unittest_command(command: str, python: Path, result: Path) -> str:
    """`python -m unittest ARGS` as the same unittest run whose results are also written to `result`."""
    words = _words(command)
    at = next(i for i, w in enumerate(words) if w == "-m" and i + 1 < len(words) and words[i + 1] == "unittest")
    args = words[at + 2 :]
    return shlex.join([str(python), "-c", _UNITTEST, str(result), *args])


def _behave_command(command: str, junit_dir: Path) -> str:
    return with_options(command, "behave", f"--junit --junit-directory {shlex.quote(str(junit_dir))}")


def with_options(command: str, runner: str, options: str) -> str:
    """The command with `options` added to the part that runs `runner`: a chained command (`a && pytest x &&
    b`) gets them on its runner's segment, not at its end."""
    parts = re.split(r"(&&|\|\||;)", command)
    for i in range(0, len(parts), 2):
        if runner_of(parts[i]) == runner:
            parts[i] = f"{parts[i].rstrip()} {options}" + (" " if i + 1 < len(parts) else "")
            return "".join(parts)
    return f"{command} {options}"


def _log_text(path: Path) -> str:
    try:
        return path.read_text("utf-8", "replace")
    except OSError:
        return ""


_IMPORT_AT_START = re.compile(r"ImportError while loading conftest|^E?\s*(ModuleNotFoundError|ImportError): ", re.M)
_USAGE = re.compile(
    r"error: unrecognized arguments|^ERROR: usage:|^usage: .*\n.*error:|^ERROR: .*(ini|\.cfg|\.toml)\b.*|"
    r"ConfigError|error: (argument|option|no such option)",
    re.M,
)


def classify(runner: str, code: int | None, timed_out: bool, outcomes: list[TestOutcome], log_text: str) -> RunState:
    """How a run ended. Only RAN (the runner ended normally and executed at least one test) is evidence."""
    if timed_out:
        return RunState.TIMEOUT
    executed = [o for o in outcomes if o.status is not TestStatus.SKIPPED and not _collection_error(o)]
    collection = [o for o in outcomes if _collection_error(o)]
    if "ImportError while loading conftest" in log_text:
        return RunState.IMPORT_ERROR
    if runner == "pytest":
        if code == 4:
            return RunState.IMPORT_ERROR if _IMPORT_AT_START.search(log_text) else RunState.USAGE_ERROR
        if code == 3:
            return RunState.IMPORT_ERROR if _IMPORT_AT_START.search(log_text) and not outcomes else RunState.INTERNAL_ERROR
        if code == 2:
            if collection or "during collection" in log_text:
                return RunState.COLLECTION_ERROR
            return RunState.INTERNAL_ERROR
        if code == 5:
            return RunState.NO_TESTS
        if code in (0, 1):
            if executed:
                return RunState.RAN
            return RunState.COLLECTION_ERROR if collection else RunState.NO_TESTS
        return RunState.INTERNAL_ERROR  # killed by a signal, the command not found, a crash
    if executed:
        return RunState.RAN
    if collection:
        return RunState.COLLECTION_ERROR
    if _IMPORT_AT_START.search(log_text):
        return RunState.IMPORT_ERROR
    if _USAGE.search(log_text) or code == 2:
        return RunState.USAGE_ERROR
    if code in (0, 5) or (runner == "unittest" and code == 1 and not outcomes):
        return RunState.NO_TESTS
    return RunState.INTERNAL_ERROR


def _collection_error(o: TestOutcome) -> bool:
    return (o.status is TestStatus.ERROR and o.message.startswith(COLLECTION_FAILURE)) or o.id.startswith(
        "unittest-import-error:"
    )


_STATE_TEXT = {
    RunState.USAGE_ERROR: "the test runner stopped with a usage error (bad option or configuration)",
    RunState.INTERNAL_ERROR: "the test runner stopped with an internal error",
    RunState.COLLECTION_ERROR: "the tests could not be collected",
    RunState.NO_TESTS: "no test was executed",
    RunState.IMPORT_ERROR: "the tests could not start: an import failed (conftest, plugin or test module)",
    RunState.TIMEOUT: "the tests did not finish in time",
    RunState.INSTALL_FAILED: "the environment could not be installed",
    RunState.NO_PASSING: "tests ran but not one passed (each failed, errored or was skipped)",
    RunState.LOST: "the worker running the tests was lost (its process or node died), twice",
}


def as_baseline(run: TestRun) -> TestRun:
    """A run taken as a baseline: one that ran but where not one test passed (a conftest fixture, a test module
    or the smoke import failing the same way everywhere, a command failing) proves nothing the change could
    break, so it is NO_PASSING rather than RAN."""
    if run.state is not RunState.RAN or run.passed:
        return run
    worst = next((o for o in run.outcomes if o.failing), None)
    detail = f"{len(run.outcomes)} ran, none passed"
    if worst is not None:
        first = worst.message.strip().splitlines()[0][:300] if worst.message.strip() else worst.status.value
        detail += f"; first: {worst.id}: {first}"
    return replace(run, state=RunState.NO_PASSING, error=run.error or detail)


def describe(state: RunState) -> str:
    """One phrase for a run state that is not RAN ("" for RAN)."""
    return _STATE_TEXT.get(state, "")


def run_tests(
    root: Path,
    service: Service,
    env: Env,
    run_dir: Path,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    test_command: str = "",
    extra_env: Mapping[str, str] | None = None,
) -> TestRun:
    """Run the service's tests the way the project does, in the service folder with the environment first on
    PATH, read their results, and classify how the run ended. Never raises.

    `test_command` (the config's) replaces the project's own command; `extra_env` is added to the commands'
    environment. A service without test files and without a declared command gets an import smoke test.
    """
    extra_env = dict(extra_env or {})
    command, source = resolve_test_command(service, test_command)
    runner = runner_of(command)
    if not env.ok:
        return _env_run(service, env, runner if service.has_tests or source != "default" else "import-smoke",
                        installed=False, error=env.error, log=env.log, timed_out=env.timed_out,
                        state=RunState.TIMEOUT if env.timed_out else RunState.INSTALL_FAILED, command=command)  # fmt: skip
    root = Path(root).resolve()
    folder = root / service.path
    logs = log_dir(run_dir, service)
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"{env.label}-tests.log"
    junit = logs / f"{env.label}-junit.xml"
    junit.unlink(missing_ok=True)
    child = {**child_env(service, env.bin_dir, Path(env.path)), **extra_env}
    with open(log_path, "w", encoding="utf-8") as log:
        if not service.has_tests and source == "default":
            return _smoke(root, service, env, run_dir, timeout, log, extra_env)
        if command == DEFAULT_COMMAND:
            command = f"{shlex.quote(str(env.python))} -m pytest"
        behave_dir = logs / f"{env.label}-behave-junit"
        unittest_json = logs / f"{env.label}-unittest.json"
        if runner == "pytest":
            shown = run = with_options(command, "pytest", _pytest_extra(junit, logs / f"{env.label}-pytest-cache"))
        elif runner == "behave":
            if behave_dir.exists():
                for old in behave_dir.glob("*.xml"):
                    old.unlink()
            shown = run = _behave_command(command, behave_dir)
        elif runner == "unittest":
            unittest_json.unlink(missing_ok=True)
            shown, run = command, _unittest_command(command, env.python, unittest_json)
            log.write(f"[fleetshift] {command!r} runs through unittest.main with a result recorder\n")
        else:
            shown = run = command
        log.write(f"[fleetshift] test command ({source}): {command}\n")
        started = time.monotonic()
        code, timed_out = _run(run, folder, child, log, timeout)
        duration = time.monotonic() - started
    outcomes: list[TestOutcome]
    if runner == "pytest":
        outcomes = parse_junit(junit)
    elif runner == "behave":
        outcomes = [o for xml in sorted(behave_dir.glob("*.xml")) for o in parse_junit(xml)]
    elif runner == "unittest":
        try:
            outcomes = [TestOutcome(i, TestStatus(s), m, d) for i, s, m, d in json.loads(unittest_json.read_text("utf-8"))]
        except (OSError, ValueError, TypeError):
            outcomes = []
    else:
        outcomes = []
        if not timed_out and code is not None:
            status = TestStatus.PASSED if code == 0 else TestStatus.FAILED
            outcomes = [TestOutcome(f"command::{command}", status, "" if code == 0 else f"exit code {code}", duration)]
    log_text = _log_text(log_path)
    state = classify(runner, code, timed_out, outcomes, log_text)
    error = ""
    if timed_out:
        error = f"the tests did not finish within {timeout:.0f} s (killed)"
    elif state is not RunState.RAN:
        error = f"exit code {code}: {_tail(log_path)}"
    elif (code not in (0, 1) and runner == "pytest") or (code != 0 and not any(o.failing for o in outcomes)):
        error = f"the test command failed (exit code {code}) without a failing test: {_tail(log_path)}"
        outcomes.append(TestOutcome(f"{runner}::session", TestStatus.ERROR, error))
    return _env_run(
        service, env, runner if runner != "other" else "command", exit_code=code, duration=duration,
        outcomes=tuple(outcomes), error=error, log=str(log_path), timed_out=timed_out, state=state, command=shown,
    )  # fmt: skip
