"""The API check beside the tests: a migration whose tests stay green but whose production code still calls
what the new release no longer has is a regression, with file:line.

The proof runs in real uv environments: the baseline on asyncio-mqtt 0.16 and influxdb-client (original
files), the after-environment on aiomqtt 2 and influxdb3-python, where the listener kept
`client.messages()` (a property in aiomqtt 2: "'MessagesIterator' object is not callable" at runtime),
`client.filtered_messages(...)` (removed in aiomqtt 2) and `client.query_api()` (influxdb-client's, not
InfluxDBClient3's). The suite only tests a pure function and passes on both sides.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fleet_factory import make_fleet

from fleetshift import verify
from fleetshift.config import FleetConfig
from fleetshift.discover import discover
from fleetshift.model import (
    ApiCheck,
    ApiDiagnostic,
    RunState,
    TestOutcome,
    TestRun,
    TestStatus,
    VerdictState,
    to_jsonable,
)
from fleetshift.report.results import write_run_reports
from fleetshift.verify import apicheck

OLD_LISTENER = '''\
from asyncio_mqtt import Client
from influxdb_client import InfluxDBClient


def parse(payload):
    return float(payload.decode())


class Listener:
    def __init__(self, host):
        self.client = Client(host)
        self.influx = InfluxDBClient(url="http://localhost:8086", token="t", org="o")

    async def listen(self, handle):
        async with self.client as client:
            async with client.messages() as messages:
                await client.subscribe("home/#")
                async for message in messages:
                    handle(message)

    async def kitchen(self, handle):
        async with self.client as client:
            async with client.filtered_messages("home/kitchen/#") as messages:
                async for message in messages:
                    handle(message)

    def last_hour(self):
        return self.influx.query_api().query("from(bucket: \\"b\\") |> range(start: -1h)")
'''
# what a migration that left the calls alone wrote: the imports and constructors moved, the calls did not
NEW_LISTENER = (
    OLD_LISTENER.replace("from asyncio_mqtt import Client", "from aiomqtt import Client")
    .replace("from influxdb_client import InfluxDBClient", "from influxdb_client_3 import InfluxDBClient3")
    .replace('InfluxDBClient(url="http://localhost:8086", token="t", org="o")',
             'InfluxDBClient3(host="http://localhost:8181", token="t", database="b")')
)  # fmt: skip
TESTS = """\
from listener import parse


def test_parse():
    assert parse(b"21.5") == 21.5
"""
OLD_REQS = "asyncio-mqtt==0.16.2\ninfluxdb-client==1.44.0\npytest==8.3.5\n"
NEW_REQS = "aiomqtt>=2,<3\ninfluxdb3-python>=0.12\npytest==8.3.5\n"


def test_the_api_check_catches_a_property_called_and_removed_methods_while_the_tests_stay_green(
    tmp_path: Path,
) -> None:
    root = make_fleet(tmp_path / "fleet", {
        "svc/requirements.txt": OLD_REQS, "svc/listener.py": OLD_LISTENER, "svc/tests/test_listener.py": TESTS,
    }).resolve()  # fmt: skip
    service = discover(root, FleetConfig(root=root)).service("svc")
    moved = ("aiomqtt", "asyncio-mqtt", "influxdb-client", "influxdb3-python", "pytest")
    base = verify.baseline(verify.VerifyRequest(root, service, tmp_path / "run", env_root=tmp_path / "envs", moved=moved))
    assert base.state is RunState.RAN and base.passed == ("tests.test_listener::test_parse",), base.error
    assert base.api is not None and base.api.ran, base.api
    assert base.api.files == ("svc/listener.py",) and "pytest" not in base.api.packages

    old = {f: (root / f).read_bytes() for f in ("svc/requirements.txt", "svc/listener.py")}
    (root / "svc/requirements.txt").write_text(NEW_REQS)
    (root / "svc/listener.py").write_text(NEW_LISTENER)
    after_service = discover(root, FleetConfig(root=root)).service("svc")
    after = verify.after(verify.VerifyRequest(root, after_service, tmp_path / "run", env_root=tmp_path / "envs", before=service,
                         moved=moved, old_files=old))  # fmt: skip
    assert after.state is RunState.RAN and after.passed == base.passed and not after.failing  # green
    verdict = verify.compare(base, after)
    assert not verdict.passed and verdict.outcome is VerdictState.FAILED and verdict.regressions == ()
    got = {(d.where, d.code) for d in verdict.api_regressions}
    lines = NEW_LISTENER.splitlines()
    line_of = {needle: next(i + 1 for i, t in enumerate(lines) if needle in t)
               for needle in ("client.messages()", "client.filtered_messages(", "query_api()")}  # fmt: skip
    assert got == {
        (f"svc/listener.py:{line_of['client.messages()']}", "operator"),  # MessagesIterator is a property now
        (f"svc/listener.py:{line_of['client.filtered_messages(']}", "attr-defined"),
        (f"svc/listener.py:{line_of['query_api()']}", "attr-defined"),
    }, verdict.api_regressions
    assert "3 API regression(s)" in verdict.reason and f"svc/listener.py:{line_of['client.messages()']}" in verdict.reason
    assert "MessagesIterator" in verdict.reason and "filtered_messages" in verdict.reason
    # the baseline is cached with its API check: a second call installs nothing and compares the same
    again = verify.baseline(verify.VerifyRequest(root, service, tmp_path / "run2", env_root=tmp_path / "envs", moved=moved,
                            old_files=old))  # fmt: skip
    assert again.cached and again.api == base.api
    log = Path(after.api.log).read_text()  # type: ignore[union-attr]
    assert "follow_imports = skip" in log and "[mypy-aiomqtt,aiomqtt.*," in log and ".fleetshift/cache/apicheck" in log
    record = json.loads(json.dumps(to_jsonable(verdict.after)))
    assert verify.run_from_json(record).api == after.api  # what a resumed run reads back

    # every report names each one with file:line
    run_dir = tmp_path / "reports"
    (run_dir / "verdicts").mkdir(parents=True)
    (run_dir / "state.json").write_text(json.dumps({"run_id": "r", "fleet_root": str(root), "status": "done",
                                                    "services": {"svc": {"status": "failed"}}}))  # fmt: skip
    (run_dir / "verdicts" / "svc.json").write_text(json.dumps(to_jsonable(verdict)))
    write_run_reports(run_dir)
    results = json.loads((run_dir / "results.json").read_text())
    svc = results["services"][0]
    assert {d["where"] for d in svc["api_regressions"]} == {w for w, _ in got}
    assert svc["tests"]["after"]["api_check"]["files"] == ["svc/listener.py"]
    assert results["summary"]["failed_services"][0]["api_regressions"]
    for name in ("execution-report.md", "test-report.md", "report.html"):
        text = (run_dir / name).read_text()
        assert all(w in text for w, _ in got), name


# ---- the parts, fast -------------------------------------------------------------------------------------


def _d(file: str, line: int, code: str, message: str) -> ApiDiagnostic:
    return ApiDiagnostic(file, line, 1, code, message)


def test_new_diagnostics_match_by_file_code_and_message_not_line() -> None:
    base = ApiCheck("mypy", ("a.py",), ("aiomqtt",), (_d("a.py", 3, "attr-defined", '"X" has no attribute "y"'),))
    after = ApiCheck("mypy", ("a.py",), ("aiomqtt",), (
        _d("a.py", 9, "attr-defined", '"X" has no attribute "y"'),  # moved down: the same one
        _d("a.py", 10, "operator", '"MessagesIterator" not callable'),
        _d("a.py", 11, "attr-defined", '"X" has no attribute "y"'),  # a second one: new
    ))  # fmt: skip
    new = apicheck.new_diagnostics(base, after)
    assert [(d.line, d.code) for d in new] == [(10, "operator"), (11, "attr-defined")]
    assert apicheck.new_diagnostics(None, after) == after.diagnostics  # no baseline: every one counts
    broken = ApiCheck("mypy", ("a.py",), ("aiomqtt",), error="mypy could not check the files")
    assert apicheck.new_diagnostics(base, broken) == ()  # a check that did not run proves nothing, blames nothing
    assert apicheck.new_diagnostics(broken, after) == ()  # nor does a baseline check that did not run
    elsewhere = ApiCheck("mypy", ("b.py",), ("aiomqtt",), (_d("b.py", 1, "operator", '"X" not callable'),))
    assert apicheck.new_diagnostics(base, elsewhere) == ()  # b.py was not checked on the baseline: no comparison


def test_only_diagnostics_that_involve_the_migrated_libraries_count() -> None:
    names, modules = {"Client", "MessagesIterator", "messages", "subscribe", "publish"}, {"aiomqtt"}
    imported = apicheck.imported_modules("from aiomqtt import Client as Mqtt\nimport json\n")
    assert imported == {"Mqtt": "aiomqtt.Client", "json": "json"}
    quoted = _d("a.py", 1, "operator", '"MessagesIterator" not callable')
    assert apicheck.involves(quoted, "async with client.messages() as m:", names, modules, imported)
    coroutine = _d("a.py", 1, "unused-coroutine", 'Value of type "Coroutine[Any, Any, None]" must be used')
    assert apicheck.involves(coroutine, '    client.publish("t", b"1")', names, modules, imported)
    assert not apicheck.involves(coroutine, "    self.flush()", names, modules, imported)
    # tenacity 9's `f.statistics` on a decorated function: an attribute decorators add at runtime, unseen
    dynamic = _d("a.py", 1, "attr-defined", '"Callable[[Any], Coroutine[Any, Any, int]]" has no attribute "statistics"')
    assert not apicheck.involves(dynamic, "    Mqtt.statistics", names | {"statistics"}, modules, imported)
    mismatch = _d("a.py", 1, "arg-type", 'Argument 1 to "Client" has incompatible type "int"; expected "str"')
    assert not apicheck.involves(mismatch, "    Mqtt(1)", names, modules, imported)  # types: the tests' business
    mine = _d("a.py", 1, "attr-defined", '"Settings" has no attribute "port"')
    assert not apicheck.involves(mine, "    return settings.port", names, modules, imported)
    assert apicheck.involves(mine, "    Mqtt(settings.port)", names, modules, imported)  # imported from it
    assert apicheck.check_packages(["pytest", "pytest-asyncio", "aiomqtt", "Influxdb3_Python"]) == (
        "aiomqtt", "influxdb3-python")  # fmt: skip


def test_compare_fails_a_green_suite_on_an_api_regression_and_says_where() -> None:
    ok = (TestOutcome("t::a", TestStatus.PASSED),)
    diag = _d("svc/app.py", 12, "operator", '"MessagesIterator" not callable')
    base = TestRun("svc", "old", outcomes=ok, api=ApiCheck("mypy 1.13.0", ("svc/app.py",), ("aiomqtt",)))
    after = TestRun("svc", "new", outcomes=ok, log="/x/new.log",
                    api=ApiCheck("mypy 1.13.0", ("svc/app.py",), ("aiomqtt",), (diag,), log="/x/new-apicheck.log"))  # fmt: skip
    v = verify.compare(base, after)
    assert not v.passed and v.outcome is VerdictState.FAILED and v.api_regressions == (diag,)
    assert 'svc/app.py:12: "MessagesIterator" not callable [operator]' in v.reason and "/x/new-apicheck.log" in v.reason
    unchecked = TestRun("svc", "old", outcomes=ok)  # a baseline taken before the check existed (a resumed run)
    v = verify.compare(unchecked, after)
    assert v.passed and v.api_regressions == () and "API check not run: the baseline was taken without" in v.reason
    clean = TestRun("svc", "new", outcomes=ok, api=ApiCheck("mypy 1.13.0", ("svc/app.py",), ("aiomqtt",)))
    v = verify.compare(base, clean)
    assert v.passed and "API check (mypy 1.13.0): 1 touched file(s) clean" in v.reason


@pytest.mark.parametrize("text", ["", "import aiomqtt\n", "from aiomqtt.client import Client\n"])
def test_files_using_reads_imports_without_running_anything(tmp_path: Path, text: str) -> None:
    root = make_fleet(tmp_path, {"svc/a.py": text, "svc/b.py": "import json  # aiomqtt in a comment\n"})
    from fleetshift.model import Service

    service = Service("svc", "svc", python_files=("svc/a.py", "svc/b.py"))
    assert apicheck.files_using(root, service, {"aiomqtt"}) == (("svc/a.py",) if text else ())


def test_the_checkers_uv_calls_run_in_uv_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Installing the checker and finding uv's Pythons run uv as every uv call of fleetshift does (never
    downloading a Python on the way, no progress bars, a dropped DNS lookup asked again)."""
    from fleetshift.proc import Captured
    from fleetshift.verify import pythons

    seen: list[tuple[list[str], dict[str, str] | None]] = []

    def captured(cmd, timeout, cwd=None, env=None, input=None):
        seen.append((list(cmd), dict(env) if env is not None else None))
        return Captured(code=1, stderr="refused here")

    monkeypatch.setattr(apicheck, "run_captured", captured)
    monkeypatch.setattr(pythons, "run_captured", captured)
    log: list[str] = []
    assert apicheck.checker_python(tmp_path, log) is None  # the first uv call fails: no checker
    assert pythons._uv_managed() == []
    assert [cmd[1:3] for cmd, _ in seen] == [["venv", "--quiet"], ["python", "dir"]]
    for _, env in seen:
        assert env is not None and env["UV_PYTHON_DOWNLOADS"] == "never" and env["UV_NO_PROGRESS"] == "1"
        assert "RES_OPTIONS" in env
