"""pytest-asyncio 0.21/0.23 -> 1.x recipe: rewrite cases, no-op twins, findings, detection and config."""

from __future__ import annotations

import dataclasses
import textwrap

import pytest
from recipe_harness import Case, assert_noop, assert_rewrite, detect, rewrite, rewrite_files, rules_of

from fleetshift.model import Action, Severity
from fleetshift.recipes import _pytest_config as pc
from fleetshift.recipes import get

R = "pytest-asyncio"
AUTO_INI = {"svc/pytest.ini": "[pytest]\nasyncio_mode = auto\n"}
STRICT_INI = {"svc/pytest.ini": "[pytest]\nasyncio_mode = strict\n"}


def rid(slug: str) -> str:
    return f"pytest-asyncio/{slug}"


# ---- rewrite cases: (name, before, after, extra files) ---------------------------------------------

REWRITES = [
    (
        "PA-1 async test: event_loop attribute -> get_running_loop",
        """\
        import pytest


        @pytest.mark.asyncio
        async def test_x(event_loop):
            fut = event_loop.create_future()
        """,
        """\
        import pytest
        import asyncio


        @pytest.mark.asyncio
        async def test_x():
            fut = asyncio.get_running_loop().create_future()
        """,
        {},
    ),
    (
        "PA-1 async test: event_loop passed on -> local binding",
        """\
        import asyncio


        async def test_x(event_loop, tmp_path):
            \"\"\"Doc.\"\"\"
            await helper(event_loop)
        """,
        """\
        import asyncio


        async def test_x(tmp_path):
            \"\"\"Doc.\"\"\"
            event_loop = asyncio.get_running_loop()
            await helper(event_loop)
        """,
        AUTO_INI,
    ),
    (
        "PA-1 sync test run_until_complete -> async + await + marker (strict)",
        """\
        import pytest


        def test_sync(event_loop):
            r = event_loop.run_until_complete(f())
            assert event_loop.run_until_complete(f()) == r
        """,
        """\
        import pytest


        @pytest.mark.asyncio
        async def test_sync():
            r = await f()
            assert (await f()) == r
        """,
        {},
    ),
    (
        "PA-1 sync test in auto mode: no marker needed",
        """\
        def test_sync(event_loop):
            event_loop.run_until_complete(f())
        """,
        """\
        async def test_sync():
            await f()
        """,
        AUTO_INI,
    ),
    (
        "PA-1 sync fixture -> pytest_asyncio.fixture (strict)",
        """\
        import pytest


        @pytest.fixture
        def server(event_loop):
            s = event_loop.run_until_complete(start())
            yield s
            event_loop.run_until_complete(s.close())
        """,
        """\
        import pytest
        import pytest_asyncio


        @pytest_asyncio.fixture
        async def server():
            s = await start()
            yield s
            await s.close()
        """,
        {},
    ),
    (
        "PA-2 function-scoped plain override is deleted",
        """\
        import asyncio

        import pytest


        @pytest.fixture
        def event_loop():
            loop = asyncio.new_event_loop()
            yield loop
            loop.close()


        @pytest.mark.asyncio
        async def test_a():
            await asyncio.sleep(0)
        """,
        """\
        import asyncio

        import pytest


        @pytest.mark.asyncio
        async def test_a():
            await asyncio.sleep(0)
        """,
        {},
    ),
    (
        "PA-2 module override -> pytestmark loop_scope + fixture loop_scope",
        """\
        import asyncio

        import pytest
        import pytest_asyncio


        @pytest.fixture(scope="module")
        def event_loop():
            policy = asyncio.get_event_loop_policy()
            loop = policy.new_event_loop()
            yield loop
            loop.close()


        @pytest_asyncio.fixture
        async def conn():
            return asyncio.get_running_loop()


        @pytest.mark.asyncio
        async def test_a(conn):
            assert conn is asyncio.get_running_loop()


        async def test_b():
            pass
        """,
        """\
        import asyncio

        import pytest
        import pytest_asyncio

        pytestmark = pytest.mark.asyncio(loop_scope="module")


        @pytest_asyncio.fixture(loop_scope="module")
        async def conn():
            return asyncio.get_running_loop()


        @pytest.mark.asyncio(loop_scope="module")
        async def test_a(conn):
            assert conn is asyncio.get_running_loop()


        async def test_b():
            pass
        """,
        {},
    ),
    (
        "PA-2 class override -> class marker",
        """\
        import asyncio

        import pytest


        class TestK:
            @pytest.fixture(scope="class")
            def event_loop(self):
                loop = asyncio.new_event_loop()
                yield loop
                loop.close()

            async def test_a(self):
                pass
        """,
        """\
        import pytest


        @pytest.mark.asyncio(loop_scope="class")
        class TestK:
            async def test_a(self):
                pass
        """,
        {},
    ),
    (
        "PA-2 module override with sync tests -> per-test markers",
        """\
        import asyncio

        import pytest


        @pytest.fixture(scope="module")
        def event_loop():
            loop = asyncio.new_event_loop()
            yield loop
            loop.close()


        async def test_a():
            pass


        def test_sync():
            pass
        """,
        """\
        import pytest


        @pytest.mark.asyncio(loop_scope="module")
        async def test_a():
            pass


        def test_sync():
            pass
        """,
        AUTO_INI,
    ),
    (
        "PA-3 DefaultEventLoopPolicy override is deleted",
        """\
        import asyncio

        import pytest


        @pytest.fixture(scope="session")
        def event_loop_policy():
            return asyncio.DefaultEventLoopPolicy()


        def test_a():
            pass
        """,
        """\
        def test_a():
            pass
        """,
        {},
    ),
    (
        "PA-4 marker scope= -> loop_scope= (decorator, pytestmark list, add_marker)",
        """\
        import pytest
        from pytest import mark

        pytestmark = [pytest.mark.asyncio(scope="module"), pytest.mark.slow]


        @mark.asyncio(scope="class")
        class TestA:
            async def test_a(self):
                pass


        def pytest_collection_modifyitems(items):
            for item in items:
                item.add_marker(pytest.mark.asyncio(scope="session"))
        """,
        """\
        import pytest
        from pytest import mark

        pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.slow]


        @mark.asyncio(loop_scope="class")
        class TestA:
            async def test_a(self):
                pass


        def pytest_collection_modifyitems(items):
            for item in items:
                item.add_marker(pytest.mark.asyncio(loop_scope="session"))
        """,
        {},
    ),
    (
        "PA-5 wide pytest_asyncio fixture gets loop_scope (quote style kept)",
        """\
        import pytest_asyncio


        @pytest_asyncio.fixture(scope='module')
        async def db():
            yield 1


        @pytest_asyncio.fixture(
            scope="session",
        )
        async def client():
            return 2
        """,
        """\
        import pytest_asyncio


        @pytest_asyncio.fixture(scope='module', loop_scope='module')
        async def db():
            yield 1


        @pytest_asyncio.fixture(
            scope="session",
            loop_scope="session",
        )
        async def client():
            return 2
        """,
        {},
    ),
    (
        "PA-5 auto mode: wide pytest.fixture async -> pytest_asyncio.fixture + loop_scope",
        """\
        import pytest


        @pytest.fixture(scope="session")
        async def client():
            return 2
        """,
        """\
        import pytest
        import pytest_asyncio


        @pytest_asyncio.fixture(scope="session", loop_scope="session")
        async def client():
            return 2
        """,
        AUTO_INI,
    ),
    (
        "PA-8 strict: @pytest.fixture async -> @pytest_asyncio.fixture",
        """\
        import pytest


        @pytest.fixture
        async def plain():
            return 42


        @pytest.fixture(name="other")
        async def _other():
            return 43
        """,
        """\
        import pytest
        import pytest_asyncio


        @pytest_asyncio.fixture
        async def plain():
            return 42


        @pytest_asyncio.fixture(name="other")
        async def _other():
            return 43
        """,
        STRICT_INI,
    ),
    (
        "PA-9 strict: unmarked async test gets the marker",
        """\
        import pytest


        async def test_a():
            pass


        class TestB:
            async def test_b(self):
                pass
        """,
        """\
        import pytest


        @pytest.mark.asyncio
        async def test_a():
            pass


        class TestB:
            @pytest.mark.asyncio
            async def test_b(self):
                pass
        """,
        {},
    ),
    (
        "PA-10 asyncio mark on a fixture is removed",
        """\
        import pytest
        import pytest_asyncio


        @pytest.mark.asyncio
        @pytest_asyncio.fixture
        async def f():
            return 1
        """,
        """\
        import pytest
        import pytest_asyncio


        @pytest_asyncio.fixture
        async def f():
            return 1
        """,
        {},
    ),
    (
        "PA-11 get_event_loop inside coroutines -> get_running_loop",
        """\
        import asyncio
        import pytest_asyncio
        from asyncio import get_event_loop


        @pytest_asyncio.fixture
        async def q():
            return asyncio.get_event_loop()


        async def helper():
            return get_event_loop()
        """,
        """\
        import asyncio
        import pytest_asyncio
        from asyncio import get_event_loop


        @pytest_asyncio.fixture
        async def q():
            return asyncio.get_running_loop()


        async def helper():
            return asyncio.get_running_loop()
        """,
        {},
    ),
]


@pytest.mark.parametrize(
    ("before", "after", "extra"), [c[1:] for c in REWRITES], ids=[c[0] for c in REWRITES]
)
def test_rewrite(before: str, after: str, extra: dict[str, str]) -> None:
    assert_rewrite(R, before, after, extra_files=extra)


# ---- no-op twins: already-migrated or lookalike code -----------------------------------------------

NOOPS = [
    (
        "PA-1 no event_loop request; a helper taking event_loop is not a fixture",
        """\
        import asyncio


        def helper(event_loop):
            return event_loop.run_until_complete(f())


        async def test_x():
            asyncio.get_running_loop().create_future()
        """,
        AUTO_INI,
    ),
    (
        "PA-2 an ordinary fixture named loop",
        """\
        import asyncio

        import pytest


        @pytest.fixture
        def loop():
            loop = asyncio.new_event_loop()
            yield loop
            loop.close()
        """,
        {},
    ),
    (
        "PA-4 marker already uses loop_scope; other marks keep scope=",
        """\
        import pytest

        pytestmark = pytest.mark.asyncio(loop_scope="module")


        @pytest.mark.other(scope="module")
        async def test_a():
            pass
        """,
        {},
    ),
    (
        "PA-5 function-scoped async fixture: no loop_scope=function (FALSE claim)",
        """\
        import pytest_asyncio


        @pytest_asyncio.fixture(scope="function")
        async def f():
            return 1


        @pytest_asyncio.fixture
        async def g():
            return 1


        @pytest_asyncio.fixture(scope="module", loop_scope="module")
        async def h():
            return 1
        """,
        {},
    ),
    (
        "PA-8 auto mode keeps @pytest.fixture on async fixtures",
        """\
        import pytest


        @pytest.fixture
        async def plain():
            return 42
        """,
        AUTO_INI,
    ),
    (
        "PA-9 covered by module pytestmark, class marker or auto mode",
        """\
        import pytest

        pytestmark = pytest.mark.asyncio


        async def test_a():
            pass
        """,
        {},
    ),
    (
        "PA-9 class marker covers methods; anyio-marked tests are left alone",
        """\
        import pytest


        @pytest.mark.asyncio
        class TestA:
            async def test_a(self):
                pass


        @pytest.mark.anyio
        async def test_b():
            pass
        """,
        {},
    ),
    (
        "PA-9 --asyncio-mode=auto in addopts beats the strict key",
        """\
        async def test_a():
            pass
        """,
        {"svc/pytest.ini": "[pytest]\nasyncio_mode = strict\naddopts = -ra --asyncio-mode=auto\n"},
    ),
    (
        "PA-11 sync get_event_loop is not rewritten; get_running_loop kept",
        """\
        import asyncio


        async def test_a():
            asyncio.get_running_loop()
        """,
        AUTO_INI,
    ),
]


@pytest.mark.parametrize(("source", "extra"), [c[1:] for c in NOOPS], ids=[c[0] for c in NOOPS])
def test_noop(source: str, extra: dict[str, str]) -> None:
    assert_noop(R, source, extra_files=extra)


# ---- findings: what a human must handle ------------------------------------------------------------

FINDINGS = [
    (
        "PA-1 sync test driving the loop itself",
        """\
        def test_sync(event_loop):
            event_loop.call_soon(event_loop.stop)
            event_loop.run_forever()
        """,
        "event-loop-fixture",
    ),
    (
        "PA-1 async test calling run_until_complete",
        """\
        async def test_a(event_loop):
            event_loop.run_until_complete(f())
        """,
        "event-loop-fixture",
    ),
    (
        "PA-1 getfixturevalue('event_loop')",
        """\
        def test_a(request):
            loop = request.getfixturevalue("event_loop")
        """,
        "event-loop-request",
    ),
    (
        "PA-1 usefixtures('event_loop')",
        """\
        import pytest


        @pytest.mark.usefixtures("event_loop")
        def test_a():
            pass
        """,
        "event-loop-request",
    ),
    (
        "PA-2 override with a custom loop (uvloop)",
        """\
        import pytest
        import uvloop


        @pytest.fixture(scope="session")
        def event_loop():
            loop = uvloop.new_event_loop()
            yield loop
            loop.close()
        """,
        "event-loop-override-custom",
    ),
    (
        "PA-2 override that sets debug",
        """\
        import asyncio

        import pytest


        @pytest.fixture
        def event_loop():
            loop = asyncio.new_event_loop()
            loop.set_debug(True)
            yield loop
            loop.close()
        """,
        "event-loop-override-custom",
    ),
    (
        "PA-3 uvloop policy fixture",
        """\
        import pytest
        import uvloop


        @pytest.fixture(scope="session")
        def event_loop_policy():
            return uvloop.EventLoopPolicy()
        """,
        "event-loop-policy",
    ),
    (
        "PA-4 marker with both scope= and loop_scope=",
        """\
        import pytest


        @pytest.mark.asyncio(scope="module", loop_scope="module")
        async def test_a():
            pass
        """,
        "marker-scope",
    ),
    (
        "PA-5 dynamic scope",
        """\
        import pytest_asyncio


        @pytest_asyncio.fixture(scope=pick_scope)
        async def f():
            return 1
        """,
        "fixture-loop-scope-dynamic",
    ),
    (
        "PA-11 sync get_event_loop in a test",
        """\
        import asyncio


        def test_sync():
            asyncio.get_event_loop().run_until_complete(f())
        """,
        "get-event-loop-sync",
    ),
]


@pytest.mark.parametrize(("source", "rule"), [c[1:] for c in FINDINGS], ids=[c[0] for c in FINDINGS])
def test_finding(source: str, rule: str) -> None:
    findings = assert_noop(R, source, extra_files=AUTO_INI)
    hits = [f for f in findings if f.rule == rid(rule)]
    assert hits, findings
    assert all(f.line > 0 and f.link and f.severity is Severity.HUMAN for f in hits)


def test_package_level_override_is_a_finding_and_kept() -> None:
    files = {
        "svc/tests/conftest.py": "import pytest\n",
        "svc/tests/a/conftest.py": textwrap.dedent(
            """\
            import asyncio

            import pytest


            @pytest.fixture(scope="session")
            def event_loop():
                loop = asyncio.new_event_loop()
                yield loop
                loop.close()
            """
        ),
        "svc/tests/a/test_a.py": "def test_sync(event_loop):\n    event_loop.run_until_complete(f())\n",
        "svc/tests/b/test_b.py": "async def test_b():\n    pass\n",
    }
    new, findings = rewrite_files(R, files, targets=None)
    assert new["svc/tests/a/conftest.py"] == files["svc/tests/a/conftest.py"]
    # the request resolves to the kept custom override: not rewritten either
    assert new["svc/tests/a/test_a.py"] == files["svc/tests/a/test_a.py"]
    assert {rid("event-loop-override-custom"), rid("event-loop-fixture")} <= rules_of(findings)


def test_anyio_service_gets_findings_not_pytest_asyncio_fixtures() -> None:
    src = """\
    import pytest


    @pytest.fixture
    def anyio_backend():
        return "asyncio"


    @pytest.fixture
    async def client():
        return 1
    """
    findings = assert_noop(R, src)
    assert rid("strict-async-fixture-other-plugin") in rules_of(findings)


def test_marker_hook_suppresses_added_markers() -> None:
    conftest = textwrap.dedent(
        """\
        import pytest
        from pytest_asyncio import is_async_test


        def pytest_collection_modifyitems(items):
            for item in (i for i in items if is_async_test(i)):
                item.add_marker(pytest.mark.asyncio(loop_scope="session"), append=False)
        """
    )
    assert_noop(R, "async def test_a():\n    pass\n", extra_files={"svc/tests/conftest.py": conftest})


def test_newly_marked_tests_are_reported() -> None:
    _, findings = rewrite(R, "async def test_a():\n    pass\n")
    assert any(f.rule == rid("unmarked-async-test") and "test_a" in f.message for f in findings)


# ---- session override in the root conftest: config defaults ---------------------------------------


ROOT_OVERRIDE = """\
import asyncio

import pytest


@pytest.fixture(scope="session")
def event_loop():
    loop = asyncio.get_event_loop_policy().new_event_loop()
    try:
        yield loop
    finally:
        loop.close()


@pytest.fixture(scope="module")
async def conn():
    return 1
"""


@pytest.mark.parametrize(
    ("cfg_path", "cfg", "expected"),
    [
        (
            "svc/pytest.ini",
            "[pytest]\n# keep me\nasyncio_mode = auto\n",
            "[pytest]\n# keep me\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = session\n"
            "asyncio_default_test_loop_scope = session\n",
        ),
        (
            "svc/setup.cfg",
            "[metadata]\nname = x\n\n[tool:pytest]\nasyncio_mode = auto\n\n[flake8]\nmax-line-length = 1\n",
            "[metadata]\nname = x\n\n[tool:pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = session\n"
            "asyncio_default_test_loop_scope = session\n\n[flake8]\nmax-line-length = 1\n",
        ),
        (
            "svc/tox.ini",
            "[tox]\nenvlist = py311\n\n[pytest]\nasyncio_mode = auto\n",
            "[tox]\nenvlist = py311\n\n[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = session\n"
            "asyncio_default_test_loop_scope = session\n",
        ),
        (
            "svc/pyproject.toml",
            '[project]\nname = "x"\n\n[tool.pytest.ini_options]\nasyncio_mode = "auto"  # comment\n',
            '[project]\nname = "x"\n\n[tool.pytest.ini_options]\nasyncio_mode = "auto"  # comment\n'
            'asyncio_default_fixture_loop_scope = "session"\nasyncio_default_test_loop_scope = "session"\n',
        ),
        (
            "svc/pytest.toml",
            '[pytest]\nasyncio_mode = "auto"\n',
            '[pytest]\nasyncio_mode = "auto"\nasyncio_default_fixture_loop_scope = "session"\n'
            'asyncio_default_test_loop_scope = "session"\n',
        ),
    ],
    ids=["pytest.ini", "setup.cfg", "tox.ini", "pyproject", "pytest.toml"],
)
def test_root_session_override_becomes_config_defaults(cfg_path: str, cfg: str, expected: str) -> None:
    new, _ = rewrite_files(R, {"svc/tests/conftest.py": ROOT_OVERRIDE, cfg_path: cfg})
    assert new[cfg_path] == expected
    conftest = new["svc/tests/conftest.py"]
    assert "def event_loop" not in conftest
    assert '@pytest_asyncio.fixture(scope="module", loop_scope="session")' in conftest
    again, _ = rewrite_files(R, new)
    assert again == new


# ---- config: the false claim, always-written default, active file ---------------------------------


@pytest.mark.parametrize(
    ("cfg_path", "cfg"),
    [
        ("svc/pytest.ini", "[pytest]\nasyncio_mode = auto\n"),
        ("svc/setup.cfg", "[tool:pytest]\nasyncio_mode = auto\n"),
        ("svc/tox.ini", "[pytest]\nasyncio_mode=auto\n"),
        ("svc/pyproject.toml", '[tool.pytest.ini_options]\nasyncio_mode = "auto"\n'),
        ("svc/pyproject.toml", '[tool.pytest]\nasyncio_mode = "auto"\n'),
        ("svc/pytest.toml", '[pytest]\nasyncio_mode = "auto"\n'),
    ],
)
def test_asyncio_mode_is_never_removed_and_default_is_written(cfg_path: str, cfg: str) -> None:
    """FALSE claim: 'asyncio_mode = auto is the default in 1.3, remove it'. Strict is the default."""
    new, _ = rewrite_files(R, {"svc/tests/test_a.py": "async def test_a():\n    pass\n", cfg_path: cfg})
    assert new[cfg_path].startswith(cfg)  # every original line kept, asyncio_mode included
    assert "asyncio_default_fixture_loop_scope" in new[cfg_path]
    assert pc.asyncio_mode(pc.read(cfg_path, new[cfg_path])) == "auto"
    assert pc.read(cfg_path, new[cfg_path]).get("asyncio_default_fixture_loop_scope") == "function"
    assert new["svc/tests/test_a.py"] == "async def test_a():\n    pass\n"  # auto mode: no marker
    assert "asyncio_default_test_loop_scope" not in new[cfg_path]


def test_existing_default_is_kept() -> None:
    cfg = "[pytest]\nasyncio_default_fixture_loop_scope = module\n"
    new, _ = rewrite_files(R, {"svc/pytest.ini": cfg})
    assert new["svc/pytest.ini"] == cfg


def test_no_config_creates_pytest_ini_or_pyproject_table() -> None:
    marked = "import pytest\n\n\n@pytest.mark.asyncio\nasync def test_a():\n    pass\n"
    new, findings = rewrite_files(R, {"svc/tests/test_a.py": marked})
    assert new["svc/pytest.ini"] == "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
    assert rid("default-loop-scope") in rules_of(findings)
    pyproject = '[project]\nname = "x"\n\n[dependency-groups]\ntest = ["pytest-asyncio==0.23.8"]\n'
    new, _ = rewrite_files(R, {"svc/pyproject.toml": pyproject})
    assert new["svc/pyproject.toml"] == (
        pyproject + '\n[tool.pytest.ini_options]\nasyncio_default_fixture_loop_scope = "function"\n'
    )


def test_every_missing_name_is_flagged_at_its_line() -> None:
    src = """\
    import pytest_asyncio
    import pytest_asyncio.plugin
    from pytest_asyncio.plugin import SubRequest, event_loop, Mode


    def helper():
        pytest_asyncio.plugin.wrap_in_sync(None)
        return pytest_asyncio.fixture, pytest_asyncio.plugin.Mode.STRICT, pytest_asyncio.plugin.event_loop
    """
    new, findings = rewrite(R, src, extra_files=CONFIGURED)
    flagged = sorted((f.line, f.message.split(" ")[0]) for f in findings if f.rule == rid("removed-import"))
    assert flagged == [
        (3, "pytest_asyncio.plugin.event_loop"),
        (7, "pytest_asyncio.plugin.wrap_in_sync"),
        (8, "pytest_asyncio.plugin.event_loop"),
    ]
    assert "from pytest_asyncio.plugin import event_loop, Mode\nfrom _pytest.fixtures import SubRequest\n" in new
    sites = sorted((s.line, s.rule) for s in detect(R, src) if s.rule.endswith("import"))
    assert sites == [(3, rid("removed-import")), (3, rid("subrequest-import")), (7, rid("removed-import")), (8, rid("removed-import"))]


def test_running_loop_stop_is_flagged_at_its_line_with_the_change() -> None:
    src = "import asyncio\n\n\nasync def test_a(event_loop):\n    await asyncio.sleep(0)\n    event_loop.stop()\n"
    _, findings = rewrite(R, src, extra_files=AUTO_INI)
    (hit,) = [f for f in findings if f.rule == rid("running-loop-stop")]
    assert hit.line == 6 and "proposed change: delete `event_loop.stop()`" in hit.message
    assert [s.line for s in detect(R, src) if s.rule == rid("running-loop-stop")] == [6]


def test_a_draining_override_something_requests_by_name_is_kept() -> None:
    files = {
        "svc/tests/conftest.py": DRAINING_OVERRIDE,
        "svc/tests/test_a.py": "def test_a(request):\n    request.getfixturevalue('event_loop')\n",
        **AUTO_INI,
    }
    new, findings = rewrite_files(R, files)
    assert new["svc/tests/conftest.py"] == DRAINING_OVERRIDE
    assert {rid("event-loop-override-custom"), rid("event-loop-request")} <= rules_of(findings)


@pytest.mark.parametrize(
    ("source", "action"),
    [
        ("def test_a(event_loop):\n    event_loop.run_until_complete(f())\n", Action.AUTO),
        ("def test_a(event_loop):\n    event_loop.call_soon(event_loop.stop)\n    event_loop.run_forever()\n", Action.INFO),
        ("async def test_a(event_loop):\n    event_loop.run_until_complete(f())\n", Action.INFO),
        ("async def test_a(event_loop):\n    event_loop.stop()\n", Action.AUTO),
    ],
)
def test_event_loop_requests_the_run_leaves_to_a_human_are_not_automatic_sites(source: str, action: Action) -> None:
    (site,) = [s for s in detect(R, source) if s.rule == rid("event-loop-fixture")]
    assert site.action is action
    _, findings = rewrite(R, source, extra_files=AUTO_INI)
    human = [f for f in findings if f.rule == rid("event-loop-fixture") and f.severity is Severity.HUMAN]
    assert bool(human) is (action is Action.INFO)


# ---- scope: test code of services that use pytest-asyncio ----------------------------------------------

PRODUCTION = """\
import asyncio


def start():
    loop = asyncio.get_event_loop()
    return loop


async def serve():
    loop = asyncio.get_event_loop()
    return loop
"""


@pytest.mark.parametrize("path", ["svc/app/server.py", "svc/src/pkg/loop.py", "svc/app/asyncio_utils.py"])
def test_production_code_is_neither_rewritten_nor_counted(path: str) -> None:
    new, findings = rewrite_files(R, {path: PRODUCTION, **CONFIGURED})
    assert new[path] == PRODUCTION and not findings, findings
    assert detect(R, PRODUCTION, path) == []


@pytest.mark.parametrize(
    "path", ["svc/tests/helpers.py", "svc/tests/conftest.py", "svc/app/loop_test.py", "svc/testing/plugin.py"]
)
def test_test_code_and_pytest_plugins_are_migrated(path: str) -> None:
    source = ("import pytest\n\n\n" if path.endswith("plugin.py") else "") + PRODUCTION
    new, findings = rewrite_files(R, {path: source, **CONFIGURED})
    assert new[path] == source.replace(
        "async def serve():\n    loop = asyncio.get_event_loop()", "async def serve():\n    loop = asyncio.get_running_loop()"
    )
    assert rules_of(findings) == {rid("get-event-loop-sync")}
    assert rules_of(detect(R, source, path)) == {rid("get-event-loop"), rid("get-event-loop-sync")}


NOT_A_USER = {
    "svc/pyproject.toml": '[project]\nname = "x"\ndependencies = ["aiohttp"]\n\n[tool.pytest.ini_options]\naddopts = "-ra"\n',
    "svc/tests/test_plain.py": "import asyncio\n\n\ndef test_sync():\n    assert asyncio.get_event_loop_policy()\n",
    "svc/app/main.py": "import asyncio\n\n\ndef main():\n    asyncio.get_event_loop().run_forever()\n",
}


def test_a_service_not_using_pytest_asyncio_gets_no_asyncio_config() -> None:
    new, findings = rewrite_files(R, NOT_A_USER)
    assert new == {p: textwrap.dedent(t) for p, t in NOT_A_USER.items()} and not findings, findings
    assert "svc/pytest.ini" not in new


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("svc/tests/test_a.py", "import pytest_asyncio\n"),
        ("svc/tests/test_a.py", "import pytest\n\npytestmark = pytest.mark.asyncio\n"),
        ("svc/tox.ini", "[testenv]\ndeps = pytest-asyncio<0.24\n"),
        ("svc/setup.cfg", "[tool:pytest]\naddopts = --asyncio-mode=auto\n"),
    ],
)
def test_any_sign_of_pytest_asyncio_gets_the_default(path: str, text: str) -> None:
    new, _ = rewrite_files(R, {**NOT_A_USER, path: text})
    assert "asyncio_default_fixture_loop_scope" in new["svc/pyproject.toml"] + new.get("svc/setup.cfg", "")


def test_a_pytest_asyncio_pin_is_a_use() -> None:
    from recipe_harness import _ctx

    from fleetshift.model import Manifest, ManifestKind, Pin

    ctx = _ctx(NOT_A_USER, None, False)
    pin = Pin("pytest-asyncio", "==0.23.8", "svc/requirements-dev.txt", 1, "pytest-asyncio==0.23.8")
    service = dataclasses.replace(ctx.service, manifests=(Manifest("svc/requirements-dev.txt", ManifestKind.REQUIREMENTS, (pin,)),))
    out = get(R).migrate(dataclasses.replace(ctx, service=service))
    assert "asyncio_default_fixture_loop_scope" in out.texts["svc/pyproject.toml"]


def test_active_config_wins_and_inactive_asyncio_keys_are_flagged() -> None:
    files = {
        "svc/pytest.ini": "[pytest]\naddopts = -ra\n",
        "svc/pyproject.toml": '[tool.pytest.ini_options]\nasyncio_mode = "auto"\n',
    }
    new, findings = rewrite_files(R, files)
    assert "asyncio_default_fixture_loop_scope = function" in new["svc/pytest.ini"]
    assert new["svc/pyproject.toml"] == files["svc/pyproject.toml"]
    assert any(f.file == "svc/pyproject.toml" and f.severity is Severity.HUMAN for f in findings)


def test_crlf_ini_kept() -> None:
    cfg = "[pytest]\r\nasyncio_mode = auto\r\n"
    new, _ = rewrite_files(R, {"svc/pytest.ini": cfg})
    assert new["svc/pytest.ini"] == cfg + "asyncio_default_fixture_loop_scope = function\r\n"


@pytest.mark.parametrize(
    ("cfg", "mode"),
    [
        ("[pytest]\n", "strict"),
        ("[pytest]\nasyncio_mode = auto\n", "auto"),
        ("[pytest]\nasyncio_mode = auto\naddopts = --asyncio-mode strict\n", "strict"),
        ("[pytest]\naddopts =\n    -ra\n    --asyncio-mode=auto\n", "auto"),
    ],
)
def test_effective_mode(cfg: str, mode: str) -> None:
    assert pc.asyncio_mode(pc.read("svc/pytest.ini", cfg)) == mode


@pytest.mark.parametrize(
    ("files", "active"),
    [
        ({"svc/pytest.ini": "", "svc/pyproject.toml": "[tool.pytest.ini_options]\n"}, "svc/pytest.ini"),
        ({"svc/pytest.toml": "[pytest]\n", "svc/pytest.ini": "[pytest]\n"}, "svc/pytest.toml"),
        ({"svc/tox.ini": "[pytest]\n", "svc/setup.cfg": "[tool:pytest]\n"}, "svc/tox.ini"),
        ({"svc/tox.ini": "[tox]\n", "svc/setup.cfg": "[tool:pytest]\n"}, "svc/setup.cfg"),
        ({"svc/pyproject.toml": "[project]\n", "svc/setup.cfg": "[tool:pytest]\n"}, "svc/setup.cfg"),
        (
            {"svc/pyproject.toml": "[tool.pytest.ini_options]\n", "svc/tox.ini": "[pytest]\n"},
            "svc/pyproject.toml",
        ),
    ],
)
def test_active_config_precedence(files: dict[str, str], active: str) -> None:
    cfg = pc.active(files, "svc")
    assert cfg is not None and cfg.path == active


# ---- detection ---------------------------------------------------------------------------------


DETECT = [
    ("event_loop request", "async def test_a(event_loop):\n    pass\n", "event-loop-fixture", Action.AUTO),
    (
        "event_loop override",
        "import pytest\n@pytest.fixture(scope='session')\ndef event_loop():\n    yield 1\n",
        "event-loop-override",
        Action.AUTO,
    ),
    (
        "marker scope",
        "import pytest\npytestmark = pytest.mark.asyncio(scope='module')\n",
        "marker-scope",
        Action.AUTO,
    ),
    (
        "wide async fixture",
        "import pytest\n@pytest.fixture(scope='module')\nasync def f():\n    pass\n",
        "fixture-loop-scope",
        Action.AUTO,
    ),
    ("unmarked async test", "async def test_a():\n    pass\n", "unmarked-async-test", Action.INFO),
    (
        "async pytest.fixture",
        "import pytest\n@pytest.fixture\nasync def f():\n    pass\n",
        "strict-async-fixture",
        Action.INFO,
    ),
    (
        "mark on fixture",
        "import pytest\n@pytest.mark.asyncio\n@pytest.fixture\nasync def f():\n    pass\n",
        "mark-on-fixture",
        Action.AUTO,
    ),
    (
        "policy override",
        "import pytest\n@pytest.fixture\ndef event_loop_policy():\n    pass\n",
        "event-loop-policy",
        Action.HUMAN,
    ),
    (
        "get_event_loop async",
        "import asyncio\nasync def f():\n    asyncio.get_event_loop()\n",
        "get-event-loop",
        Action.AUTO,
    ),
    (
        "get_event_loop sync",
        "import asyncio\ndef f():\n    asyncio.get_event_loop()\n",
        "get-event-loop-sync",
        Action.HUMAN,
    ),
    (
        "getfixturevalue",
        "def test_a(request):\n    request.getfixturevalue('event_loop')\n",
        "event-loop-request",
        Action.HUMAN,
    ),
]


@pytest.mark.parametrize(("source", "rule", "action"), [c[1:] for c in DETECT], ids=[c[0] for c in DETECT])
def test_detect(source: str, rule: str, action: Action) -> None:
    sites = [s for s in detect(R, source) if s.rule == rid(rule)]
    assert sites and all(s.action is action and s.line > 0 for s in sites)


MIGRATED = """\
import asyncio

import pytest
import pytest_asyncio

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def db():
    return asyncio.get_running_loop()


@pytest_asyncio.fixture
async def f():
    return 1


async def test_a(db, f):
    assert db is asyncio.get_running_loop()


def helper(event_loop):
    return event_loop
"""


def test_detect_nothing_to_do_on_migrated_code() -> None:
    sites = detect(R, MIGRATED)
    assert not [s for s in sites if s.action is not Action.INFO], sites


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("svc/pytest.ini", "[pytest]\nasyncio_mode = auto\n"),
        ("svc/setup.cfg", "[tool:pytest]\nasyncio_mode = auto\n"),
        ("svc/tox.ini", "[pytest]\naddopts = --asyncio-mode=auto\n"),
        ("svc/pyproject.toml", '[tool.pytest.ini_options]\nasyncio_mode = "auto"\n'),
        ("svc/pytest.toml", '[pytest]\nasyncio_mode = "strict"\n'),
    ],
)
def test_detect_asyncio_mode_in_every_format(path: str, text: str) -> None:
    sites = [s for s in detect(R, text, path) if s.rule == rid("asyncio-mode")]
    assert len(sites) == 1 and sites[0].action is Action.INFO and sites[0].line == 2


def test_detect_config_without_asyncio_keys() -> None:
    assert not [
        s for s in detect(R, "[pytest]\naddopts = -ra\n", "svc/pytest.ini") if s.rule == rid("asyncio-mode")
    ]


# ---- pins and data ------------------------------------------------------------------------------


def test_recipe_data() -> None:
    r = get(R)
    assert (r.package, r.migrates_from, r.migrates_to, r.order) == (
        "pytest-asyncio",
        "<1.0",
        ">=1.3.0,<2",
        10,
    )
    assert r.requires["pytest"] == ">=8.2"
    assert r.is_old("pytest-asyncio", "==0.23.8") and not r.is_old("pytest-asyncio", "==1.3.0")
    assert all(rule.link for rule in r.rules)


@pytest.mark.parametrize(
    ("pytest_pin", "bumped"),
    [("==7.4.4", True), ("<8", True), ("==8.3.5", False), (">=8", False), ("", False)],
)
def test_pin_changes_bump_pytest_only_when_needed(pytest_pin: str, bumped: bool) -> None:
    from recipe_harness import _ctx

    changes = get(R).pin_changes(_ctx({}, None, False), {"pytest-asyncio": "==0.23.8", "pytest": pytest_pin})
    assert changes[0].new_spec == ">=1.3.0,<2"
    assert any(c.package == "pytest" for c in changes) is bumped


def test_policy_fixture_requested_not_overridden_is_left_alone() -> None:
    src = """\
    import pytest


    @pytest.mark.asyncio
    async def test_a(event_loop_policy):
        assert event_loop_policy is not None
    """
    assert_noop(R, src)
    assert not [s for s in detect(R, src) if s.action is not Action.INFO]


def test_marker_hook_is_detected_as_info() -> None:
    hook = "import pytest\n\n\ndef pytest_collection_modifyitems(items):\n    items[0].add_marker(pytest.mark.asyncio)\n"
    sites = [s for s in detect(R, hook, "svc/tests/conftest.py") if s.rule == rid("marker-hook")]
    assert sites and sites[0].action is Action.INFO
    assert not [
        s for s in detect(R, "import pytest\n", "svc/tests/conftest.py") if s.rule == rid("marker-hook")
    ]


def test_module_override_warns_about_fixtures_from_elsewhere() -> None:
    src = """\
    import asyncio

    import pytest


    @pytest.fixture(scope="module")
    def event_loop():
        loop = asyncio.new_event_loop()
        yield loop
        loop.close()


    async def test_a(client_from_conftest):
        pass
    """
    _, findings = rewrite(R, src, extra_files=AUTO_INI)
    hits = [f for f in findings if f.rule == rid("loop-scope-mismatch")]
    assert hits and "client_from_conftest" in hits[0].message and hits[0].line == 7
    # no warning when the module defines what its tests use
    _, findings = rewrite(R, src.replace("client_from_conftest", "tmp_path"), extra_files=AUTO_INI)
    assert rid("loop-scope-mismatch") not in rules_of(findings)


def test_converted_sync_test_is_not_reported_as_previously_skipped() -> None:
    _, findings = rewrite(R, "def test_sync(event_loop):\n    event_loop.run_until_complete(f())\n")
    assert rid("unmarked-async-test") not in rules_of(findings)


# ---- cases keyed by rule (run by test_rule_cases.py): each rule's positive case and its no-op twin ---------

TEST = "svc/tests/test_x.py"
CONFIGURED = {"svc/pytest.ini": "[pytest]\nasyncio_default_fixture_loop_scope = function\n"}


def _row(table: list, prefix: str) -> tuple:
    (row,) = [r for r in table if r[0].startswith(prefix)]
    return row


def _rewritten(rule: str, prefix: str) -> Case:
    name, before, after, extra = _row(REWRITES, prefix)
    return Case(rule, before, after, path=TEST, extra_files=extra, name=name)


def _twin(rule: str, prefix: str, also: tuple[str, ...] = ()) -> Case:
    name, source, extra = _row(NOOPS, prefix)
    return Case(rule, source, findings=also, path=TEST, extra_files=extra, name=name)


def _flagged(prefix: str) -> Case:
    name, source, rule = _row(FINDINGS, prefix)
    return Case(rule, source, findings=(rule,), path=TEST, extra_files=AUTO_INI, name=name)


def _quiet(rule: str, source: str, path: str = TEST) -> Case:
    """A no-op twin in a service whose config already has what the migration writes."""
    return Case(rule, source, path=path, extra_files=CONFIGURED)


DRAINING_OVERRIDE = """\
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
"""
SESSION_DB = '\n\n@pytest.fixture(scope="session")\nasync def db():\n    return 1\n'
SERVER_FIXTURE = (
    "import pytest\n\n\n@pytest.fixture\ndef server(event_loop):\n    s = event_loop.run_until_complete(start())\n"
    "    yield s\n    event_loop.run_until_complete(s.close())\n"
)

# tangled like real conftests: a coroutine stored before it is run, teardown in try/except RuntimeError, the loop
# passed to a constructor, an autouse generator fixture with a timer handle and a pending-task sweep, a sync
# test creating futures on the loop
SYNC_LOOP_USERS = """\
import asyncio

import pytest


class Client:
    def __init__(self, loop, port):
        self.loop, self.port = loop, port


@pytest.fixture
def server(event_loop, unused_tcp_port):
    coro = event_loop.create_server(asyncio.Protocol, "127.0.0.1", unused_tcp_port)
    srv = event_loop.run_until_complete(coro)
    client = Client(loop=event_loop, port=unused_tcp_port)
    yield srv, client
    srv.close()
    try:
        event_loop.run_until_complete(srv.wait_closed())
    except RuntimeError:
        pass


@pytest.fixture(autouse=True)
def no_leaks(event_loop):
    handle = event_loop.call_later(60, print)
    yield
    handle.cancel()
    pending = asyncio.all_tasks(event_loop)
    for task in pending:
        task.cancel()
    event_loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))


def test_future(event_loop):
    fut = event_loop.create_future()
    event_loop.call_soon(fut.set_result, 1)
    assert event_loop.run_until_complete(fut) == 1
"""
SYNC_LOOP_USERS_AFTER = """\
import asyncio

import pytest
import pytest_asyncio


class Client:
    def __init__(self, loop, port):
        self.loop, self.port = loop, port


@pytest_asyncio.fixture
async def server(unused_tcp_port):
    event_loop = asyncio.get_running_loop()
    coro = event_loop.create_server(asyncio.Protocol, "127.0.0.1", unused_tcp_port)
    srv = await coro
    client = Client(loop=event_loop, port=unused_tcp_port)
    yield srv, client
    srv.close()
    try:
        await srv.wait_closed()
    except RuntimeError:
        pass


@pytest_asyncio.fixture(autouse=True)
async def no_leaks():
    event_loop = asyncio.get_running_loop()
    handle = event_loop.call_later(60, print)
    yield
    handle.cancel()
    pending = asyncio.all_tasks(event_loop) - {asyncio.current_task()}
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


def test_future(event_loop):
    fut = event_loop.create_future()
    event_loop.call_soon(fut.set_result, 1)
    assert event_loop.run_until_complete(fut) == 1
"""
ASYNC_FIXTURE = "import pytest_asyncio\n\n\n@pytest_asyncio.fixture\nasync def client():\n    return 1\n"
ANYIO = 'import pytest\n\n\n@pytest.fixture\ndef anyio_backend():\n    return "asyncio"\n\n\n@pytest.fixture\n'
MODULE_OVERRIDE = (
    'import asyncio\n\nimport pytest\n\n\n@pytest.fixture(scope="module")\ndef event_loop():\n'
    "    loop = asyncio.new_event_loop()\n    yield loop\n    loop.close()\n\n\n"
)
MODULE_SCOPED = 'import pytest\n\npytestmark = pytest.mark.asyncio(loop_scope="module")\n\n\n'

CASES = [
    _rewritten("event-loop-fixture", "PA-1 async test: event_loop attribute"),
    _rewritten("event-loop-fixture", "PA-1 sync test run_until_complete"),
    _flagged("PA-1 sync test driving the loop itself"),
    Case(
        "event-loop-override-drain",
        DRAINING_OVERRIDE + SESSION_DB,
        "import pytest_asyncio\n" + SESSION_DB.replace(
            "@pytest.fixture(scope=\"session\")", "@pytest_asyncio.fixture(scope=\"session\", loop_scope=\"session\")"
        ),
        findings=("event-loop-override-drain",),
        path="svc/tests/conftest.py",
        extra_files=AUTO_INI,
    ),
    Case(
        "event-loop-override-drain",
        DRAINING_OVERRIDE,
        findings=("event-loop-override-custom",),
        targets={"pytest-asyncio": ">=1.0,<2"},
        path="svc/tests/conftest.py",
        extra_files={"svc/pytest.ini": "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"},
        name="target-admits-1.0",
    ),
    Case(
        "running-loop-stop",
        "import asyncio\n\n\nasync def test_shutdown(event_loop):\n    srv = await asyncio.start_server(print, port=0)\n"
        "    srv.close()\n    event_loop.stop()\n",
        "import asyncio\n\n\nasync def test_shutdown():\n    srv = await asyncio.start_server(print, port=0)\n"
        "    srv.close()\n    asyncio.get_running_loop().stop()\n",
        findings=("running-loop-stop",),
        path=TEST,
        extra_files=AUTO_INI,
    ),
    Case(
        "running-loop-stop",
        "import asyncio\n\n\nasync def test_close():\n    loop = asyncio.get_event_loop()\n    loop.close()\n",
        "import asyncio\n\n\nasync def test_close():\n    loop = asyncio.get_running_loop()\n    loop.close()\n",
        findings=("running-loop-stop",),
        path=TEST,
        extra_files=AUTO_INI,
        name="bound-by-get-event-loop",
    ),
    Case(
        "running-loop-stop",
        "import asyncio\n\n\nasync def test_shutdown():\n    srv = await asyncio.start_server(print, port=0)\n"
        "    srv.close()\n    await srv.wait_closed()\n",
        path=TEST,
        extra_files={"svc/pytest.ini": "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"},
    ),
    Case(
        "converted-fixture-loop",
        SERVER_FIXTURE,
        "import pytest\nimport pytest_asyncio\n\n\n@pytest_asyncio.fixture(loop_scope=\"function\")\nasync def server():\n"
        "    s = await start()\n    yield s\n    await s.close()\n",
        path="svc/tests/conftest.py",
        extra_files={"svc/pytest.ini": "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = session\n"},
    ),
    Case(
        "converted-fixture-loop",
        "import pytest\n\n\n@pytest.fixture\nasync def server():\n    s = await start()\n    yield s\n    await s.close()\n",
        path="svc/tests/conftest.py",
        extra_files={"svc/pytest.ini": "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = session\n"},
        name="written-async",
    ),
    Case("event-loop-sync-use", SYNC_LOOP_USERS, SYNC_LOOP_USERS_AFTER, path="svc/tests/conftest.py", extra_files=STRICT_INI),
    Case(
        "event-loop-sync-use",
        "import pytest\n\n\n@pytest.fixture\ndef server(loop):\n    srv = loop.run_until_complete(start())\n"
        "    yield srv\n    loop.run_until_complete(srv.close())\n",
        path="svc/tests/conftest.py",
        extra_files=CONFIGURED,
        name="another-plugins-loop-fixture",
    ),
    _twin("event-loop-fixture", "PA-1 no event_loop request"),
    _flagged("PA-1 getfixturevalue"),
    _quiet("event-loop-request", "def test_a(request):\n    request.getfixturevalue('tmp_path')\n"),
    _rewritten("event-loop-override", "PA-2 function-scoped plain override"),
    _rewritten("event-loop-override", "PA-2 module override -> pytestmark"),
    _twin("event-loop-override", "PA-2 an ordinary fixture named loop"),
    _flagged("PA-2 override with a custom loop"),
    _twin("event-loop-override-custom", "PA-2 an ordinary fixture named loop"),
    _rewritten("event-loop-policy", "PA-3 DefaultEventLoopPolicy"),
    _flagged("PA-3 uvloop policy fixture"),
    _quiet(
        "event-loop-policy",
        "import asyncio\n\n\ndef test_policy(event_loop_policy):\n"
        "    assert isinstance(event_loop_policy, asyncio.AbstractEventLoopPolicy)\n",
    ),
    _rewritten("marker-scope", "PA-4 marker scope="),
    _twin("marker-scope", "PA-4 marker already uses loop_scope", also=("default-loop-scope",)),
    _rewritten("fixture-loop-scope", "PA-5 wide pytest_asyncio fixture"),
    _twin("fixture-loop-scope", "PA-5 function-scoped async fixture", also=("default-loop-scope",)),
    _twin("fixture-loop-scope", "PA-8 auto mode keeps @pytest.fixture"),
    _flagged("PA-5 dynamic scope"),
    _twin("fixture-loop-scope-dynamic", "PA-5 function-scoped async fixture", also=("default-loop-scope",)),
    Case(
        "default-loop-scope",
        "[pytest]\nasyncio_mode = auto\n",
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n",
        path="svc/pytest.ini",
    ),
    Case("default-loop-scope", "[pytest]\nasyncio_default_fixture_loop_scope = module\n", path="svc/pytest.ini"),
    Case(
        "asyncio-mode",
        '[tool.pytest.ini_options]\nasyncio_mode = "auto"\n',
        findings=("asyncio-mode",),
        path="svc/pyproject.toml",
        extra_files={"svc/pytest.ini": "[pytest]\naddopts = -ra\n"},
        name="inactive-config-file",
    ),
    _twin("asyncio-mode", "PA-9 --asyncio-mode=auto in addopts"),
    _rewritten("strict-async-fixture", "PA-8 strict: @pytest.fixture async"),
    _quiet("strict-async-fixture", ASYNC_FIXTURE),
    Case(
        "strict-async-fixture-other-plugin",
        ANYIO + "async def client():\n    return 1\n",
        findings=("strict-async-fixture-other-plugin",),
        path=TEST,
        extra_files=CONFIGURED,
    ),
    _quiet("strict-async-fixture-other-plugin", ANYIO + "def client():\n    return 1\n"),
    _rewritten("unmarked-async-test", "PA-9 strict: unmarked async test"),
    _twin("unmarked-async-test", "PA-9 covered by module pytestmark", also=("default-loop-scope",)),
    Case(
        "marker-hook",
        "import pytest\n\n\ndef pytest_collection_modifyitems(items):\n    items[0].add_marker(pytest.mark.asyncio)\n",
        sites=("marker-hook",),
        path="svc/tests/conftest.py",
        extra_files=CONFIGURED,
        name="detected-as-info",
    ),
    _quiet(
        "marker-hook",
        "import pytest\n\n\ndef pytest_collection_modifyitems(items):\n    items.sort(key=str)\n",
        "svc/tests/conftest.py",
    ),
    _rewritten("mark-on-fixture", "PA-10 asyncio mark on a fixture"),
    _quiet("mark-on-fixture", ASYNC_FIXTURE),
    _rewritten("get-event-loop", "PA-11 get_event_loop inside coroutines"),
    _twin("get-event-loop", "PA-11 sync get_event_loop is not rewritten"),
    _flagged("PA-11 sync get_event_loop in a test"),
    _quiet("get-event-loop-sync", "import asyncio\n\n\ndef helper():\n    return asyncio.new_event_loop()\n"),
    Case(
        "loop-scope-mismatch",
        MODULE_OVERRIDE + "async def test_a(client_from_conftest):\n    pass\n",
        MODULE_SCOPED + "async def test_a(client_from_conftest):\n    pass\n",
        findings=("loop-scope-mismatch",),
        path=TEST,
        extra_files=AUTO_INI,
    ),
    Case("get-event-loop", PRODUCTION, path="svc/app/server.py", extra_files=CONFIGURED, name="production-code"),
    Case("get-event-loop-sync", PRODUCTION, path="svc/app/server.py", extra_files=CONFIGURED, name="production-code"),
    Case("default-loop-scope", "[pytest]\naddopts = -ra\n", path="svc/pytest.ini", name="service-without-pytest-asyncio"),
    Case(
        "subrequest-import",
        "import pytest\nfrom pytest_asyncio.plugin import Mode, SubRequest\n\n\n"
        "@pytest.fixture(params=[1])\ndef one(request: SubRequest):\n    return request.param\n",
        "import pytest\nfrom pytest_asyncio.plugin import Mode\nfrom _pytest.fixtures import SubRequest\n\n\n"
        "@pytest.fixture(params=[1])\ndef one(request: SubRequest):\n    return request.param\n",
        path=TEST,
        extra_files=CONFIGURED,
    ),
    _quiet(
        "subrequest-import",
        "import pytest\nfrom _pytest.fixtures import SubRequest\n\n\n"
        "@pytest.fixture(params=[1])\ndef one(request: SubRequest):\n    return request.param\n",
    ),
    Case(
        "removed-import",
        "import pytest_asyncio.plugin\nfrom pytest_asyncio.plugin import event_loop, wrap_in_sync\n",
        findings=("removed-import",),
        path=TEST,
        extra_files=CONFIGURED,
    ),
    _quiet(
        "removed-import",
        "import pytest_asyncio.plugin\nfrom pytest_asyncio import fixture, is_async_test\n"
        "from pytest_asyncio.plugin import Mode, unused_tcp_port\n\nMODE = pytest_asyncio.plugin.Mode.AUTO\n",
    ),
    Case("loop-scope-mismatch", MODULE_SCOPED + "async def test_a(client_from_conftest):\n    pass\n", path=TEST, extra_files=AUTO_INI),
]


DEBUG_OVERRIDE = """\
import asyncio

import pytest


@pytest.fixture
def event_loop():
    # debug mode catches never-awaited pushes
    loop = asyncio.new_event_loop()
    loop.set_debug(True)
    yield loop
    loop.close()
"""

PLAIN_SESSION_OVERRIDE = """\
import asyncio

import pytest


@pytest.fixture(scope="session")
def event_loop():
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()
"""


@pytest.mark.parametrize(
    ("conftest", "override", "by_name", "rule", "action"),
    [
        ("svc/tests/conftest.py", PLAIN_SESSION_OVERRIDE, False, "event-loop-override", Action.AUTO),
        ("svc/tests/conftest.py", DEBUG_OVERRIDE, False, "event-loop-override-custom", Action.HUMAN),
        ("svc/tests/a/conftest.py", PLAIN_SESSION_OVERRIDE, False, "event-loop-override-custom", Action.HUMAN),
        ("svc/tests/conftest.py", DRAINING_OVERRIDE, False, "event-loop-override-drain", Action.AUTO),
        ("svc/tests/conftest.py", DRAINING_OVERRIDE, True, "event-loop-override-custom", Action.HUMAN),
    ],
    ids=["plain-root", "custom-body", "package-level", "draining", "draining-requested-by-name"],
)
def test_an_override_is_labelled_as_the_service_run_judges_it(
    conftest: str, override: str, by_name: bool, rule: str, action: Action
) -> None:
    """Scanned with its service, an override is [auto] only where the run deletes it, [human] where it is kept."""
    files = {
        conftest: override,
        "svc/tests/a/test_a.py": "async def test_a():\n    pass\n",
        "svc/tests/b/test_b.py": (
            "def test_b(request):\n    request.getfixturevalue('event_loop')\n" if by_name else "async def test_b():\n    pass\n"
        ),
        **AUTO_INI,
    }
    sites = [s for s in detect(R, override, conftest, files) if s.rule.startswith(rid("event-loop-override"))]
    assert [(s.rule, s.action, s.line) for s in sites] == [(rid(rule), action, override.splitlines().index("def event_loop():") + 1)]
    new, _ = rewrite_files(R, files)
    assert ("def event_loop" in new[conftest]) is (action is Action.HUMAN)
    # read alone, a file cannot tell: the override is the plain rule's site
    assert {s.rule for s in detect(R, override, conftest) if s.rule.startswith(rid("event-loop-override"))} == {
        rid("event-loop-override")
    }


def test_a_wide_async_fixture_is_reported_at_the_decorator_the_run_changes() -> None:
    src = 'import pytest_asyncio\n\n\n@pytest_asyncio.fixture(scope="module")\nasync def bus():\n    yield 1\n'
    (site,) = [s for s in detect(R, src, "svc/tests/conftest.py") if s.rule == rid("fixture-loop-scope")]
    new, _ = rewrite_files(R, {"svc/tests/conftest.py": src, **AUTO_INI})
    changed = [i for i, (a, b) in enumerate(zip(src.splitlines(), new["svc/tests/conftest.py"].splitlines(), strict=True), 1) if a != b]
    assert site.line == 4 and changed == [4]


@pytest.mark.parametrize(
    ("target", "python", "applies"),
    [
        (">=1.3.0,<2", ">=3.10,<3.13", True),  # the target admits 1.4+: no current loop after an async test
        ("==1.3.0", ">=3.10,<3.13", False),  # 1.3 keeps a current loop, and no Python 3.14 runs it: nothing breaks
        ("==1.3.0", ">=3.12", True),  # Python 3.14 raises without a current loop
        ("==1.3.0", "", True),  # an undeclared Python may be 3.14
    ],
)
def test_sync_get_event_loop_is_reported_only_where_it_breaks(target: str, python: str, applies: bool) -> None:
    from fleetshift.recipes import get
    from fleetshift.recipes.rule import Scope

    recipe = get(R)
    rule = recipe.rule("get-event-loop-sync")
    assert rule.applies(Scope(target=target, known_versions=recipe.known_versions, python=python)) is applies


def test_a_finding_in_the_walk_is_placed_without_the_whole_module_written(monkeypatch: pytest.MonkeyPatch) -> None:
    """The line of a finding a fix reports while `fixes.apply` walks the module is worked out from its statement
    (what LibCST's positions over the whole module give), not by a code generation of the whole module."""
    from fleetshift.recipes.pytest_asyncio import tree

    path = "svc/tests/helpers.py"
    before = rewrite_files(R, {path: PRODUCTION, **CONFIGURED})
    monkeypatch.setattr(tree._Positions, "_all", lambda self: pytest.fail("the whole module's positions"))
    new, findings = rewrite_files(R, {path: PRODUCTION, **CONFIGURED})
    assert (new, findings) == before
    assert [(f.rule, f.line) for f in findings] == [(rid("get-event-loop-sync"), 5)]


@pytest.mark.parametrize("source", [
    "", "\n", '"""doc"""\nimport x\n', "'d'\n", 'f"x"\n', '"a" "b"\n', 'b"x"\n', "__strict__ = True\n",
    "__strict__ = x = 1\n", "x = 1\n", "(__strict__) = 1\n", '"""d"""; import x\n', "import x\n", '# c\n"""doc"""\n',
    "__strict__: bool = True\n", "a.__strict__ = 1\n", "if x:\n    pass\n", '("doc")\n', '"doc".strip()\n',
])
def test_skips_first_answers_as_the_import_visitor(source: str) -> None:
    """Whether the module's first statement is one AddImportsVisitor puts its imports after, read without its
    matchers: the visitor's own answer for every shape of a first statement."""
    import libcst as cst
    from libcst.codemod.visitors._add_imports import _skip_first

    from fleetshift.recipes.pytest_asyncio.rewrite import _skips_first

    module = cst.parse_module(source)
    assert _skips_first(module) == _skip_first(module)
