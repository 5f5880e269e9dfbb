"""Behavioural proofs: real test suites on the old pytest / pytest-asyncio API pass on the old pins, are migrated
by the two recipes (pytest-asyncio, then pytest), and pass on pytest 9.0.2 + pytest-asyncio 1.3.0 and on
pytest 9.2.0 + pytest-asyncio 1.5.0."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from recipe_harness import rewrite_files
from uvenv import run_pytest, uv_env

from fleetshift.model import Finding, Severity

pytestmark = pytest.mark.slow

OLD_023 = ["pytest==8.3.5", "pytest-asyncio==0.23.8"]
OLD_021 = ["pytest==8.3.5", "pytest-asyncio==0.21.2"]
NEW = {
    "9.0.2+1.3.0": ["pytest==9.0.2", "pytest-asyncio==1.3.0"],
    "9.2.0+1.5.0": ["pytest==9.2.0", "pytest-asyncio==1.5.0"],
}

# A 0.21 project: session event_loop override in the root conftest, session/module async fixtures whose loop
# identity the tests assert, a class with pytestmark, sync tests driving the loop, filterwarnings = error.
ROOT_SESSION_OVERRIDE = {
    "pytest.ini": """\
    [pytest]
    asyncio_mode = auto
    filterwarnings =
        error
    """,
    "tests/conftest.py": """\
    import asyncio

    import pytest


    @pytest.fixture(scope="session")
    def event_loop():
        loop = asyncio.new_event_loop()
        yield loop
        loop.close()


    @pytest.fixture(scope="session")
    async def session_loop():
        return asyncio.get_running_loop()


    @pytest.fixture(scope="module")
    async def shared_lock():
        return asyncio.Lock()


    @pytest.fixture
    async def per_test():
        return asyncio.get_running_loop()
    """,
    "tests/test_loops.py": """\
    import asyncio

    import pytest


    async def test_session_fixture_shares_the_loop(session_loop, per_test):
        assert session_loop is asyncio.get_running_loop()
        assert per_test is session_loop


    async def test_lock_from_module_fixture(shared_lock):
        async with shared_lock:
            await asyncio.sleep(0)


    async def test_future(event_loop, session_loop):
        fut = event_loop.create_future()
        event_loop.call_soon(fut.set_result, 3)
        assert await fut == 3
        assert event_loop is session_loop


    def test_sync_driver(event_loop):
        assert event_loop.run_until_complete(asyncio.sleep(0, 7)) == 7


    class TestMarked:
        pytestmark = pytest.mark.asyncio

        async def test_in_class(self, session_loop):
            assert asyncio.get_event_loop() is session_loop
    """,
}

# A 0.23 project in strict mode (the default), pyproject config: module-scoped fixtures and markers with
# scope=, an asyncio mark on a fixture, an unmarked async test (skipped on pytest 8.3), get_event_loop().
STRICT_PYPROJECT = {
    "pyproject.toml": """\
    [project]
    name = "svc"
    version = "0"

    [tool.pytest.ini_options]
    addopts = "-ra"
    """,
    "tests/test_strict.py": """\
    import asyncio

    import pytest
    import pytest_asyncio

    pytestmark = pytest.mark.asyncio(scope="module")


    @pytest_asyncio.fixture(scope="module")
    async def module_queue():
        return asyncio.Queue()


    @pytest.mark.asyncio
    @pytest_asyncio.fixture(scope="function")
    async def value():
        return 42


    async def test_one(module_queue, value):
        assert value == 42
        await module_queue.put(1)
        assert asyncio.get_event_loop() is asyncio.get_running_loop()


    async def test_two(module_queue):
        assert module_queue.qsize() == 1
        assert await module_queue.get() == 1
    """,
    "tests/test_unmarked.py": """\
    import asyncio

    import pytest


    @pytest.mark.asyncio
    async def test_marked():
        await asyncio.sleep(0)


    async def test_unmarked():
        await asyncio.sleep(0)
    """,
}

# A 0.23 project, setup.cfg in auto mode: a module-level event_loop override, a class with its own override,
# a class-scoped marker with scope= and a class pytestmark.
MODULE_AND_CLASS_OVERRIDES = {
    "setup.cfg": """\
    [metadata]
    name = svc

    [tool:pytest]
    asyncio_mode = auto
    """,
    "tests/test_module_loop.py": """\
    import asyncio

    import pytest

    SEEN = []


    @pytest.fixture(scope="module")
    def event_loop():
        loop = asyncio.new_event_loop()
        yield loop
        loop.close()


    @pytest.fixture
    async def loop_of_fixture():
        return asyncio.get_running_loop()


    async def test_a(loop_of_fixture):
        SEEN.append(asyncio.get_running_loop())
        assert loop_of_fixture is SEEN[0]


    async def test_b(loop_of_fixture):
        SEEN.append(asyncio.get_running_loop())
        assert SEEN[0] is SEEN[1] is loop_of_fixture
    """,
    "tests/test_class_loop.py": """\
    import asyncio

    import pytest


    class TestOwnLoop:
        seen = []

        @pytest.fixture(scope="class")
        def event_loop(self):
            loop = asyncio.new_event_loop()
            yield loop
            loop.close()

        async def test_a(self):
            self.seen.append(asyncio.get_running_loop())

        async def test_b(self):
            self.seen.append(asyncio.get_running_loop())
            assert self.seen[0] is self.seen[1]


    @pytest.mark.asyncio(scope="class")
    class TestMarkedClass:
        seen = []

        async def test_a(self):
            self.seen.append(asyncio.get_running_loop())

        async def test_b(self):
            self.seen.append(asyncio.get_running_loop())
            assert self.seen[0] is self.seen[1]
    """,
}

# A 0.21 project, tox.ini in strict mode: sync fixtures and tests driving event_loop, a plain
# function-scoped override in conftest.
TOX_STRICT_SYNC = {
    "tox.ini": """\
    [tox]
    envlist = py311

    [pytest]
    asyncio_mode = strict
    """,
    "tests/conftest.py": """\
    import asyncio

    import pytest


    @pytest.fixture
    def event_loop():
        loop = asyncio.new_event_loop()
        yield loop
        loop.close()


    class Server:
        async def start(self):
            self.loop = asyncio.get_running_loop()
            return self

        async def close(self):
            self.closed = True


    @pytest.fixture
    def server(event_loop):
        s = event_loop.run_until_complete(Server().start())
        yield s
        event_loop.run_until_complete(s.close())
    """,
    "tests/test_sync.py": """\
    import asyncio

    import pytest


    async def current():
        return asyncio.get_running_loop()


    def test_sync(event_loop, server):
        assert event_loop.run_until_complete(asyncio.sleep(0, "ok")) == "ok"
        assert event_loop.run_until_complete(current()) is server.loop


    @pytest.mark.asyncio
    async def test_async(server):
        assert server.loop is asyncio.get_running_loop()
    """,
}

# pytest 8 -> 9: py.path hook arguments, --strict, positional parametrize options, a PytestRemovedIn9Warning
# filter, yield_fixture, a class-scoped instance-method fixture, filterwarnings = error.
PYTEST9_API = {
    "pytest.ini": """\
    [pytest]
    addopts = --strict
    markers =
        fast: quick tests
    filterwarnings =
        error
        ignore:@pytest.yield_fixture is deprecated:pytest.PytestDeprecationWarning
        ignore::pytest.PytestRemovedIn9Warning
    """,
    "conftest.py": """\
    import pytest


    def pytest_ignore_collect(path, config):
        if path.basename == "test_ignored.py":
            return True
        return None


    def pytest_report_header(config, startdir):
        return f"start: {startdir.basename}"


    @pytest.yield_fixture
    def resource():
        yield "r"
    """,
    "tests/test_ignored.py": "def test_never():\n    raise AssertionError\n",
    "tests/test_api.py": """\
    import pytest


    @pytest.fixture
    def doubled(request):
        return request.param * 2


    @pytest.mark.fast
    @pytest.mark.parametrize("doubled", [1, 2], True, ["one", "two"])
    def test_indirect(doubled, resource):
        assert doubled in (2, 4) and resource == "r"


    class TestShared:
        base = 10

        @pytest.fixture(scope="class")
        def shared(self):
            return self.base + 1

        def test_shared(self, shared):
            assert shared == 11
    """,
}

SUITES = {
    "root-session-override-0.21": (OLD_021, ROOT_SESSION_OVERRIDE),
    "strict-pyproject-0.23": (OLD_023, STRICT_PYPROJECT),
    "module-class-overrides-0.23": (OLD_023, MODULE_AND_CLASS_OVERRIDES),
    "tox-strict-sync-0.21": (OLD_021, TOX_STRICT_SYNC),
    "pytest9-api": (OLD_023, PYTEST9_API),
}


def _files(files: dict[str, str]) -> dict[str, str]:
    return {f"svc/{p}": textwrap.dedent(t) for p, t in files.items()}


def _write(root: Path, files: dict[str, str]) -> Path:
    for p, t in files.items():
        f = root / p
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(t)
    return root / "svc"


def _passed(out: str) -> int:
    m = re.search(r"(\d+) passed", out)
    return int(m.group(1)) if m else 0


def migrate(files: dict[str, str], requirements: list[str] | None = None) -> tuple[dict[str, str], list[Finding]]:
    """Apply the chain a service (requiring `requirements`) gets: pytest-asyncio first, then pytest."""
    files, f1 = rewrite_files("pytest-asyncio", files, requirements=requirements or ())
    files, f2 = rewrite_files("pytest", files, requirements=requirements or ())
    return files, f1 + f2


# ---- pytest-asyncio: deeper cases, each proved on the old pins, unmigrated on 1.x (fails) and migrated (passes) --

NEW_13 = NEW["9.0.2+1.3.0"]


def _prove(
    tmp_path: Path, old_reqs: list[str], raw: dict[str, str], *, timeout: float = 120
) -> tuple[dict[str, str], list[Finding]]:
    """The suite passes on the old pins, fails unmigrated on pytest-asyncio 1.x and passes migrated on both new
    pin sets; returns the migrated files and the findings."""
    files = _files(raw)
    old = run_pytest(uv_env(old_reqs), _write(tmp_path / "old", files), "-p", "no:randomly", timeout=timeout)
    assert old.returncode == 0, old.stdout + old.stderr
    before = _passed(old.stdout)
    unmigrated = run_pytest(uv_env(NEW_13), _write(tmp_path / "unmigrated", files), timeout=timeout)
    assert unmigrated.returncode != 0, unmigrated.stdout
    new_files, findings = migrate(files, old_reqs)
    assert migrate(new_files, old_reqs)[0] == new_files
    for label, reqs in NEW.items():
        res = run_pytest(uv_env(reqs), _write(tmp_path / label, new_files), timeout=timeout)
        out = res.stdout + res.stderr
        assert res.returncode == 0, f"{label}\n{out}\n" + "\n".join(f"--- {p}\n{t}" for p, t in new_files.items())
        assert _passed(out) >= before, out
    return new_files, findings


# Production code calling asyncio.get_event_loop() next to tests that request event_loop: the tests are
# migrated, the production module is not the recipe's business and stays byte for byte.
PRODUCTION_BESIDE_TESTS = {
    "pytest.ini": """\
    [pytest]
    asyncio_mode = auto
    pythonpath = .
    """,
    "app/__init__.py": "",
    "app/clock.py": """\
    import asyncio


    def loop_time():
        return asyncio.get_event_loop().time()


    async def now():
        loop = asyncio.get_event_loop()
        return loop.time()
    """,
    "tests/test_clock.py": """\
    from app.clock import now


    async def test_now(event_loop):
        assert await now() <= event_loop.time()
    """,
}


def test_production_code_is_left_alone(tmp_path: Path) -> None:
    new_files, _ = _prove(tmp_path, OLD_023, PRODUCTION_BESIDE_TESTS)
    assert new_files["svc/app/clock.py"] == textwrap.dedent(PRODUCTION_BESIDE_TESTS["app/clock.py"])
    assert "event_loop" not in new_files["svc/tests/test_clock.py"]


def test_a_project_without_pytest_asyncio_gets_no_asyncio_config() -> None:
    files = _files(
        {
            "pytest.ini": "[pytest]\naddopts = -ra\n",
            "app/main.py": "import asyncio\n\n\ndef main():\n    asyncio.get_event_loop().run_until_complete(asyncio.sleep(0))\n",
            "tests/test_main.py": "from app.main import main\n\n\ndef test_main():\n    main()\n",
        }
    )
    new_files, findings = migrate(files)
    assert new_files == files and not [f for f in findings if f.recipe == "pytest-asyncio"], findings


# 0.21's pytest_asyncio.plugin had a SubRequest (an alias of typing.Any, for its own annotations) that projects
# imported for theirs; 0.23 and 1.x do not have it.
SUBREQUEST_IMPORT = {
    "pytest.ini": "[pytest]\nasyncio_mode = strict\n",
    "tests/conftest.py": """\
    import pytest
    from pytest_asyncio.plugin import SubRequest


    @pytest.fixture(params=["a", "b"])
    def letter(request: SubRequest) -> str:
        return request.param
    """,
    "tests/test_letters.py": """\
    import asyncio

    import pytest


    def test_letter(letter):
        assert letter in "ab"


    @pytest.mark.asyncio
    async def test_async_letter(letter):
        await asyncio.sleep(0)
        assert letter in "ab"
    """,
}


def test_subrequest_import_moves_to_pytest(tmp_path: Path) -> None:
    new_files, _ = _prove(tmp_path, OLD_021, SUBREQUEST_IMPORT)
    assert "from _pytest.fixtures import SubRequest" in new_files["svc/tests/conftest.py"]


# Sync fixtures and tests that use event_loop beyond run_until_complete (0.23, strict mode): an echo server
# whose coroutine is stored before it is run and whose teardown awaits wait_closed() in try/except RuntimeError,
# the loop passed to a client's constructor, an autouse generator fixture with a timer handle and a pending-task
# sweep, a sync test creating a future for a protocol object.
SYNC_LOOP_USERS = {
    "pytest.ini": "[pytest]\nasyncio_mode = strict\n",
    "tests/conftest.py": """\
    import asyncio

    import pytest


    class Echo(asyncio.Protocol):
        def connection_made(self, transport):
            self.transport = transport

        def data_received(self, data):
            self.transport.write(data)


    class Client:
        def __init__(self, loop, port):
            self.loop, self.port = loop, port

        async def roundtrip(self, payload):
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            writer.write(payload)
            await writer.drain()
            data = await reader.readexactly(len(payload))
            writer.close()
            await writer.wait_closed()
            return data


    @pytest.fixture
    def server(event_loop, unused_tcp_port):
        coro = event_loop.create_server(Echo, "127.0.0.1", unused_tcp_port)
        srv = event_loop.run_until_complete(coro)
        client = Client(loop=event_loop, port=unused_tcp_port)
        yield srv, client
        srv.close()
        try:
            event_loop.run_until_complete(srv.wait_closed())
        except RuntimeError:
            pass


    SWEPT = []


    @pytest.fixture(autouse=True)
    def no_leaks(event_loop):
        fired = []
        handle = event_loop.call_later(60, fired.append, 1)
        yield
        handle.cancel()
        pending = asyncio.all_tasks(event_loop)
        for task in pending:
            task.cancel()
        event_loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        SWEPT.extend(t for t in pending if t.cancelled())
        assert not fired
    """,
    "tests/test_echo.py": """\
    import asyncio

    import pytest

    from conftest import SWEPT, Echo


    @pytest.mark.asyncio
    async def test_echo(server):
        srv, client = server
        assert client.loop is asyncio.get_running_loop()
        assert await client.roundtrip(b"ping") == b"ping"


    @pytest.mark.asyncio
    async def test_leaves_a_task():
        asyncio.get_running_loop().create_task(asyncio.sleep(30), name="leaked")


    def test_leaked_task_was_swept():
        assert [t.get_name() for t in SWEPT] == ["leaked"]


    def test_protocol_future(event_loop):
        done = event_loop.create_future()
        proto = Echo()
        event_loop.call_soon(done.set_result, proto)
        assert event_loop.run_until_complete(done) is proto
    """,
}


def test_sync_event_loop_users_become_async(tmp_path: Path) -> None:
    new_files, findings = _prove(tmp_path, OLD_023, SYNC_LOOP_USERS)
    assert not [f for f in findings if f.severity is Severity.HUMAN], findings
    assert "def server(event_loop" not in new_files["svc/tests/conftest.py"]
    assert "async def no_leaks():" in new_files["svc/tests/conftest.py"]
    assert "async def test_protocol_future():" in new_files["svc/tests/test_echo.py"]


# A 0.25 project that already set asyncio_default_fixture_loop_scope = session, with function-scoped tests: its
# sync fixture ran the echo server on the test's (function) event_loop. Converted to an async fixture without a
# loop_scope it would run on the session loop, which is not running during a test: the client waits forever
# (here: a 2 s timeout).
SESSION_DEFAULT_CONVERTED = {
    "pytest.ini": """\
    [pytest]
    asyncio_mode = auto
    asyncio_default_fixture_loop_scope = session
    """,
    "tests/conftest.py": """\
    import asyncio

    import pytest


    class Echo(asyncio.Protocol):
        def connection_made(self, transport):
            self.transport = transport

        def data_received(self, data):
            self.transport.write(data)


    @pytest.fixture
    def echo_port(event_loop, unused_tcp_port):
        srv = event_loop.run_until_complete(event_loop.create_server(Echo, "127.0.0.1", unused_tcp_port))
        yield unused_tcp_port
        srv.close()
        event_loop.run_until_complete(srv.wait_closed())
    """,
    "tests/test_echo.py": """\
    import asyncio


    async def roundtrip(port, payload):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(payload)
        data = await reader.readexactly(len(payload))
        writer.close()
        return data


    async def test_echo(echo_port):
        assert await asyncio.wait_for(roundtrip(echo_port, b"ping"), 2) == b"ping"


    async def test_echo_again(echo_port):
        assert await asyncio.wait_for(roundtrip(echo_port, b"pong"), 2) == b"pong"
    """,
}


def test_converted_fixture_keeps_the_tests_loop(tmp_path: Path) -> None:
    new_files, _ = _prove(tmp_path, ["pytest==8.3.5", "pytest-asyncio==0.25.3"], SESSION_DEFAULT_CONVERTED)
    conftest = new_files["svc/tests/conftest.py"]
    assert '@pytest_asyncio.fixture(loop_scope="function")\nasync def echo_port(unused_tcp_port):' in conftest
    # without the loop_scope the converted fixture's server sits on the idle session loop and the tests time out
    hung = dict(new_files, **{"svc/tests/conftest.py": conftest.replace('(loop_scope="function")', "")})
    res = run_pytest(uv_env(NEW_13), _write(tmp_path / "hung", hung), timeout=120)
    assert res.returncode == 1 and "TimeoutError" in res.stdout and "2 failed" in res.stdout, res.stdout


# A 0.21 async test that stops its event_loop as its last act: the run migrates the request and flags the stop()
# with the proposed change (delete it), and the suite passes on 1.x both as migrated and with the change applied.
RUNNING_LOOP_STOP = {
    "pytest.ini": "[pytest]\nasyncio_mode = strict\n",
    "tests/test_stop.py": """\
    import asyncio

    import pytest


    async def handler(reader, writer):
        writer.close()


    @pytest.mark.asyncio
    async def test_serve_and_stop(event_loop):
        srv = await asyncio.start_server(handler, "127.0.0.1", 0)
        srv.close()
        await srv.wait_closed()
        event_loop.stop()


    @pytest.mark.asyncio
    async def test_next_one_runs():
        await asyncio.sleep(0)
    """,
}


def test_running_loop_stop_is_flagged_with_a_change_that_works(tmp_path: Path) -> None:
    new_files, findings = _prove(tmp_path, OLD_021, RUNNING_LOOP_STOP)
    (hit,) = [f for f in findings if f.rule == "pytest-asyncio/running-loop-stop"]
    migrated = new_files["svc/tests/test_stop.py"]
    assert hit.line == 15 and "proposed change: delete `event_loop.stop()`" in hit.message
    (flagged,) = [line for line in migrated.splitlines() if line.strip().endswith(".stop()")]
    changed = dict(new_files, **{"svc/tests/test_stop.py": migrated.replace(flagged + "\n", "")})
    res = run_pytest(uv_env(NEW_13), _write(tmp_path / "changed", changed))
    assert res.returncode == 0 and "2 passed" in res.stdout, res.stdout


# A 0.21 session event_loop override whose teardown cancels and awaits the pending tasks, and a test that leaves a
# worker task behind: pytest-asyncio >=1.1 cancels it at the end of the session loop as the override did, so the
# override goes (its scope becomes the config defaults) and the worker's finally still runs.
DRAINING_OVERRIDE = {
    "pytest.ini": "[pytest]\nasyncio_mode = auto\n",
    "tests/conftest.py": """\
    import asyncio

    import pytest


    @pytest.fixture(scope="session")
    def event_loop():
        loop = asyncio.get_event_loop_policy().new_event_loop()
        yield loop
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


    @pytest.fixture(scope="session")
    async def session_loop():
        return asyncio.get_running_loop()
    """,
    "tests/test_worker.py": """\
    import asyncio
    from pathlib import Path

    DRAINED = Path(__file__).parent / "drained"


    async def worker():
        try:
            await asyncio.sleep(3600)
        finally:
            DRAINED.write_text("cancelled")


    async def test_starts_a_worker(session_loop):
        assert session_loop is asyncio.get_running_loop()
        asyncio.get_running_loop().create_task(worker())


    async def test_same_loop(session_loop):
        assert session_loop is asyncio.get_running_loop()
        assert not DRAINED.exists()
    """,
}


def test_draining_override_goes_and_the_tasks_are_still_cancelled(tmp_path: Path) -> None:
    new_files, findings = _prove(tmp_path, OLD_021, DRAINING_OVERRIDE)
    assert "def event_loop" not in new_files["svc/tests/conftest.py"]
    assert "pytest-asyncio/event-loop-override-drain" in {f.rule for f in findings}
    for label in ("old", *NEW):
        assert (tmp_path / label / "svc/tests/drained").read_text() == "cancelled", label


@pytest.mark.parametrize("suite", list(SUITES))
def test_suite_passes_before_and_after(suite: str, tmp_path: Path) -> None:
    old_reqs, raw = SUITES[suite]
    files = _files(raw)
    old = run_pytest(uv_env(old_reqs), _write(tmp_path / "old", files), "-p", "no:randomly")
    assert old.returncode == 0, old.stdout + old.stderr
    before = _passed(old.stdout)
    new_files, findings = migrate(files, old_reqs)
    assert not [f for f in findings if f.severity is Severity.HUMAN], findings  # all of it is mechanical
    assert migrate(new_files, old_reqs)[0] == new_files  # the chain is idempotent
    for label, reqs in NEW.items():
        res = run_pytest(
            uv_env(reqs), _write(tmp_path / label, new_files), "-W", "error::pytest.PytestDeprecationWarning"
        )
        out = res.stdout + res.stderr
        assert res.returncode == 0, f"{label}\n{out}\n" + "\n".join(
            f"--- {p}\n{t}" for p, t in new_files.items()
        )
        assert "skipped" not in out and _passed(out) >= before, out


def test_unmigrated_root_override_fails_on_new_versions(tmp_path: Path) -> None:
    """The proof above can fail: the 0.21 suite as it is breaks on pytest 9 + pytest-asyncio 1.x."""
    root = _write(tmp_path, _files(ROOT_SESSION_OVERRIDE))
    res = run_pytest(uv_env(NEW["9.0.2+1.3.0"]), root)
    # the override is now an ordinary fixture: tests and fixtures silently run in different loops (PA-2)
    assert res.returncode == 1 and "attached to a different loop" in res.stdout, res.stdout
    # pytest 9.2 + filterwarnings = error: the unset loop-scope default stops the run before any test (PA-6)
    res = run_pytest(uv_env(NEW["9.2.0+1.5.0"]), root)
    assert res.returncode == 3 and "asyncio_default_fixture_loop_scope" in res.stdout + res.stderr


def test_false_claims_are_not_applied_and_would_break(tmp_path: Path) -> None:
    """asyncio_mode = auto is kept (strict is the default) and scope="function" gets no loop_scope="function"."""
    files = _files(ROOT_SESSION_OVERRIDE)
    files["svc/tests/test_fn_scope.py"] = textwrap.dedent(
        """\
        import asyncio

        import pytest


        @pytest.fixture(scope="function")
        async def fn_fixture():
            return asyncio.get_running_loop()


        async def test_fn(fn_fixture):
            assert fn_fixture is asyncio.get_running_loop()
        """
    )
    new_files, _ = migrate(files)
    assert "asyncio_mode = auto" in new_files["svc/pytest.ini"]
    assert 'loop_scope="function"' not in "".join(new_files.values())
    assert (
        '@pytest.fixture(scope="function")\nasync def fn_fixture' in new_files["svc/tests/test_fn_scope.py"]
    )
    env = uv_env(NEW["9.0.2+1.3.0"])
    assert run_pytest(env, _write(tmp_path / "kept", new_files)).returncode == 0
    # applying the false claim (removing asyncio_mode) breaks the migrated suite on the new versions
    broken = dict(new_files)
    broken["svc/pytest.ini"] = broken["svc/pytest.ini"].replace("asyncio_mode = auto\n", "")
    res = run_pytest(env, _write(tmp_path / "removed", broken))
    assert res.returncode != 0, res.stdout



# pytest 9.1: a non-Collection iterable as parametrize argvalues warns PytestRemovedIn10Warning at collection,
# which stops the module's collection where warnings are errors. One module per kind of one-shot iterator
# (helper imported from the tests' helpers, a helpers.<function> call, a local generator with a module-level
# generator variable and itertools, metafunc.parametrize in conftest), and one that is fine as it is.
PARAMETRIZE_GENERATORS = {
    "pytest.ini": "[pytest]\nfilterwarnings =\n    error\n",
    "tests/helpers.py": """\
    from collections.abc import Iterator


    def payloads() -> Iterator[dict]:
        return iter([{"id": 1}, {"id": 2}])


    def pairs():
        for i in range(3):
            yield i, i * 2


    def rows():
        return [(1, "a"), (2, "b")]
    """,
    "tests/conftest.py": """\
    def sizes():
        yield from (1, 2, 3)


    def pytest_generate_tests(metafunc):
        if "size" in metafunc.fixturenames:
            metafunc.parametrize("size", sizes())
    """,
    "tests/test_imported.py": """\
    import pytest
    from helpers import pairs


    @pytest.mark.parametrize(("a", "b"), pairs(), ids=str)
    def test_pairs(a, b):
        assert b == 2 * a
    """,
    "tests/test_module_call.py": """\
    import helpers
    import pytest


    @pytest.mark.parametrize("payload", helpers.payloads())
    def test_payload(payload):
        assert payload["id"] > 0
    """,
    "tests/test_local.py": """\
    import itertools

    import pytest


    def cases():
        yield "a"
        yield "b"


    LETTERS = (c.upper() for c in "xy")


    @pytest.mark.parametrize("name", cases())
    def test_local_helper(name):
        assert name in "ab"


    @pytest.mark.parametrize("letter", LETTERS)
    def test_module_variable(letter):
        assert letter.isupper()


    @pytest.mark.parametrize(argnames=("x", "y"), argvalues=itertools.product([1, 2], [3]))
    def test_product(x, y):
        assert x < y
    """,
    "tests/test_generated.py": "def test_size(size):\n    assert size > 0\n",
    "tests/test_fine.py": """\
    import pytest
    from helpers import pairs, rows


    @pytest.mark.parametrize(("a", "b"), list(pairs()))
    def test_wrapped(a, b):
        assert b == 2 * a


    @pytest.mark.parametrize(("n", "s"), rows())
    def test_rows(n, s):
        assert n > 0 and s
    """,
}


def test_parametrize_generators_fail_unmigrated_and_pass_migrated(tmp_path: Path) -> None:
    files = _files(PARAMETRIZE_GENERATORS)
    old = run_pytest(uv_env(["pytest==8.3.5"]), _write(tmp_path / "old", files))
    assert old.returncode == 0, old.stdout + old.stderr
    before = _passed(old.stdout)
    assert before == 19, old.stdout
    new_files, findings = rewrite_files("pytest", files)
    assert not [f for f in findings if f.severity is Severity.HUMAN], findings
    assert new_files["svc/tests/test_fine.py"] == files["svc/tests/test_fine.py"]
    assert "list(pairs())" in new_files["svc/tests/test_imported.py"]
    assert "list(helpers.payloads())" in new_files["svc/tests/test_module_call.py"]
    assert 'metafunc.parametrize("size", list(sizes()))' in new_files["svc/tests/conftest.py"]
    local = new_files["svc/tests/test_local.py"]
    assert "list(cases())" in local and "list(LETTERS)" in local and "argvalues=list(itertools.product(" in local
    for version in ("9.1.0", "9.2.0"):
        env = uv_env([f"pytest=={version}"])
        res = run_pytest(env, _write(tmp_path / f"unmigrated-{version}", files))
        out = res.stdout + res.stderr
        # every module with a one-shot iterator fails to collect; the one that is fine does not
        assert res.returncode == 2 and "4 errors during collection" in out, out
        assert out.count("Passing a non-Collection iterable to parametrize is deprecated") >= 4, out
        res = run_pytest(env, _write(tmp_path / f"migrated-{version}", new_files))
        out = res.stdout + res.stderr
        assert res.returncode == 0 and _passed(out) == before, out
    # a campaign that stays on pytest 9.0 (no 9.1 release admitted) leaves the code alone
    kept, _ = rewrite_files("pytest", files, targets={"pytest": "==9.0.3"})
    assert kept == files
