"""Coverage of the verdict: a migration is proven only where a test that ran imports the migrated code.

Fast parts read the import graph statically. The proof runs in real uv environments (asyncio-mqtt 0.16 ->
aiomqtt 2): the suite passes on both sides but only tests a helper, so the service is "passed, not covered"
and names the migrated files; a test that needs a broker errors on both sides and is named with the
migrated file it would have exercised; and a migrated module that no test imports but that fails to import
on the new release (`aiomqtt.error` is `aiomqtt.exceptions` in 2.x) is a regression.
"""

from __future__ import annotations

import json
from pathlib import Path

from fleet_factory import make_fleet

from fleetshift import verify
from fleetshift.config import FleetConfig
from fleetshift.discover import discover
from fleetshift.model import RunState, Service, TestOutcome, TestRun, TestStatus, VerdictState, to_jsonable
from fleetshift.report.results import write_run_reports
from fleetshift.verify import coverage

P, E, S = TestStatus.PASSED, TestStatus.ERROR, TestStatus.SKIPPED


def test_the_import_graph_follows_absolute_relative_and_conftest_imports(tmp_path: Path) -> None:
    files = {
        "svc/src/pkg/__init__.py": "from .core import run\n",
        "svc/src/pkg/core.py": "from . import helpers\nimport json\n",
        "svc/src/pkg/helpers.py": "",
        "svc/src/pkg/mqtt.py": "from pkg.helpers import x\n",
        "svc/src/pkg/main.py": "import asyncio\nfrom pkg.mqtt import loop\nasyncio.run(loop())\n",
        "svc/tests/conftest.py": "from pkg import mqtt\n",
        "svc/tests/test_core.py": "import pkg\n",
        "svc/tests/unit/test_helpers.py": "from pkg.helpers import x\n",
    }
    root = make_fleet(tmp_path, files)
    service = Service("svc", "svc", python_files=tuple(sorted(f for f in files if f.endswith(".py"))),
                      test_files=("svc/tests/test_core.py", "svc/tests/unit/test_helpers.py"))  # fmt: skip
    names = coverage.module_names(service)
    assert names["pkg.core"] == "svc/src/pkg/core.py" and names["pkg"] == "svc/src/pkg/__init__.py"
    reached = coverage.reach(root, service, ["svc/tests/test_core.py"])
    # pkg -> .core -> .helpers, and the conftest beside the test brings pkg.mqtt
    assert {"svc/src/pkg/core.py", "svc/src/pkg/helpers.py", "svc/src/pkg/mqtt.py"} <= reached
    assert "svc/src/pkg/main.py" not in reached
    migrated = ["svc/src/pkg/mqtt.py", "svc/src/pkg/main.py", "svc/src/pkg/core.py"]
    ex = dict(coverage.exercised(root, service, migrated))
    assert ex["tests.test_core"] == ("svc/src/pkg/core.py", "svc/src/pkg/mqtt.py")
    # importing pkg.helpers runs pkg/__init__.py (-> .core); tests/conftest.py applies below too (-> pkg.mqtt)
    assert ex["tests.unit.test_helpers"] == ("svc/src/pkg/core.py", "svc/src/pkg/mqtt.py")
    assert coverage.match_test("tests.unit.test_helpers.TestX::test_y[1]", ex) == "tests.unit.test_helpers"
    assert coverage.not_covered(["tests.test_core::test_a"], migrated, ex) == ("svc/src/pkg/main.py",)
    assert coverage.not_covered(["somewhere::else"], migrated, ex) is None  # cannot be placed: unknown
    # main.py starts the program when imported: never smoke-imported; tests and conftest neither
    assert coverage.smoke_modules(root, service, [*migrated, "svc/tests/conftest.py"]) == ("pkg.mqtt", "pkg.core")


def test_compare_says_passed_not_covered_and_names_what_could_not_run() -> None:
    ex = (("tests.test_util", ()), ("tests.test_loop", ("svc/pkg/loop.py",)))
    before = TestRun("svc", "old", outcomes=(TestOutcome("tests.test_util::test_a", P),
                                             TestOutcome("tests.test_loop::test_b", E)))  # fmt: skip
    after = TestRun("svc", "new", outcomes=before.outcomes, migrated=("svc/pkg/loop.py",), exercises=ex)
    v = verify.compare(before, after)
    assert v.passed and v.outcome is VerdictState.PASSED and v.not_covered == ("svc/pkg/loop.py",)
    assert v.reason.startswith("passed, not covered: svc/pkg/loop.py (no test that ran imports them)")
    assert v.unreached == (("tests.test_loop::test_b", ("svc/pkg/loop.py",)),)
    assert "could not run on either side: tests.test_loop::test_b would exercise svc/pkg/loop.py" in v.reason
    covered = TestRun("svc", "new", outcomes=(TestOutcome("tests.test_util::test_a", P),
                                              TestOutcome("tests.test_loop::test_b", P)),
                      migrated=("svc/pkg/loop.py",), exercises=ex)  # fmt: skip
    v = verify.compare(before, covered)
    assert v.passed and v.not_covered == () and not v.reason.startswith("passed, not covered")
    # a migrated module that does not import any more is a regression; one that never imported is not blamed
    broken = TestOutcome("import:pkg.errors", TestStatus.FAILED, "Traceback ...\nModuleNotFoundError: No module named 'aiomqtt.error'")
    never = TestOutcome("import:pkg.env", TestStatus.FAILED, "KeyError: 'MQTT_HOST'")
    before_i = TestRun(**{**before.__dict__, "imports": (TestOutcome("import:pkg.errors", P), never)})
    after_i = TestRun(**{**covered.__dict__, "imports": (broken, never)})
    v = verify.compare(before_i, after_i)
    assert not v.passed and v.regressions == ("import:pkg.errors",) and "import:pkg.env" in v.pre_existing
    assert "No module named 'aiomqtt.error'" in v.reason


OLD_REQS = "asyncio-mqtt==0.16.2\npytest==8.3.5\n"
NEW_REQS = "aiomqtt>=2,<3\npytest==8.3.5\n"
LOOP = """\
from asyncio_mqtt import Client


async def listen(host, handle):
    async with Client(host) as client:
        async with client.messages() as messages:
            await client.subscribe("home/#")
            async for message in messages:
                handle(message)
"""
NEW_LOOP = """\
from aiomqtt import Client


async def listen(host, handle):
    async with Client(host) as client:
        await client.subscribe("home/#")
        async for message in client.messages:
            handle(message)
"""
ERRORS = "from asyncio_mqtt.error import MqttError\n\nRETRYABLE = (MqttError, OSError)\n"
TEST_LOOP = """\
import pytest

from pkg.loop import listen


@pytest.fixture
def broker():
    raise ConnectionError("needs a broker on localhost:1883")


async def test_listen(broker):
    await listen("localhost", print)
"""
FILES = {
    "svc/requirements.txt": OLD_REQS,
    "svc/pytest.ini": "[pytest]\nasyncio_mode = auto\n",
    "svc/pkg/__init__.py": "",
    "svc/pkg/util.py": "def topic(room, quantity):\n    return f'home/{room}/{quantity}'\n",
    "svc/pkg/loop.py": LOOP,
    "svc/pkg/errors.py": ERRORS,
    "svc/tests/test_util.py": "from pkg.util import topic\n\n\ndef test_topic():\n    assert topic('hall', 't') == 'home/hall/t'\n",
    "svc/tests/test_loop.py": TEST_LOOP,
}


def test_a_green_suite_that_never_imports_the_migrated_code_is_passed_not_covered(tmp_path: Path) -> None:
    root = make_fleet(tmp_path / "fleet", FILES).resolve()
    service = discover(root, FleetConfig(root=root)).service("svc")
    moved = ("aiomqtt", "asyncio-mqtt", "pytest")
    base = verify.baseline(verify.VerifyRequest(root, service, tmp_path / "run", env_root=tmp_path / "envs", moved=moved))
    assert base.state is RunState.RAN and base.passed == ("tests.test_util::test_topic",), base.error
    assert {o.id: o.status for o in base.imports} == {"import:pkg.loop": P, "import:pkg.errors": P}

    migrated = ("svc/requirements.txt", "svc/pkg/loop.py", "svc/pkg/errors.py")
    old = {f: (root / f).read_bytes() for f in migrated}
    (root / "svc/requirements.txt").write_text(NEW_REQS)
    (root / "svc/pkg/loop.py").write_text(NEW_LOOP)
    (root / "svc/pkg/errors.py").write_text(ERRORS.replace("from asyncio_mqtt.error", "from aiomqtt"))
    now = discover(root, FleetConfig(root=root)).service("svc")
    after = verify.after(verify.VerifyRequest(root, now, tmp_path / "run", env_root=tmp_path / "envs", before=service, moved=moved,
                         old_files=old))  # fmt: skip
    v = verify.compare(base, after)
    assert v.passed and v.outcome is VerdictState.PASSED, v.reason
    assert v.not_covered == ("svc/pkg/loop.py", "svc/pkg/errors.py") or set(v.not_covered) == {
        "svc/pkg/loop.py", "svc/pkg/errors.py"}  # fmt: skip
    assert v.reason.startswith("passed, not covered: ")
    assert dict(v.unreached) == {"tests.test_loop::test_listen": ("svc/pkg/loop.py",)}
    assert {o.id: o.status for o in after.imports} == {"import:pkg.loop": P, "import:pkg.errors": P}

    # every report says it, never a plain "passed"
    run_dir = tmp_path / "reports"
    (run_dir / "verdicts").mkdir(parents=True)
    (run_dir / "state.json").write_text(json.dumps({"run_id": "r", "fleet_root": str(root), "status": "done",
                                                    "services": {"svc": {"status": "passed"}}}))  # fmt: skip
    (run_dir / "verdicts" / "svc.json").write_text(json.dumps(to_jsonable(v)))
    write_run_reports(run_dir)
    svc = json.loads((run_dir / "results.json").read_text())["services"][0]
    assert svc["verdict_label"].startswith("passed, not covered: ") and svc["not_covered"]
    assert svc["could_not_run"] == [{"test": "tests.test_loop::test_listen", "would_exercise": ["svc/pkg/loop.py"]}]
    for name in ("execution-report.md", "test-report.md", "report.html"):
        text = (run_dir / name).read_text()
        assert "passed, not covered: " in text and "svc/pkg/loop.py" in text, name

    # the same migration leaving `aiomqtt.error` (gone in 2.x): no test imports it, the smoke import fails
    (root / "svc/pkg/errors.py").write_text(ERRORS.replace("asyncio_mqtt.error", "aiomqtt.error"))
    broken = verify.after(verify.VerifyRequest(root, now, tmp_path / "run", env_root=tmp_path / "envs", before=service, moved=moved,
                          old_files=old))  # fmt: skip
    v = verify.compare(base, broken)
    assert broken.passed == after.passed and broken.failing == after.failing  # the suite is as before
    assert not v.passed and v.outcome is VerdictState.FAILED and v.regressions == ("import:pkg.errors",), v.reason
    assert "aiomqtt.error" in v.reason
