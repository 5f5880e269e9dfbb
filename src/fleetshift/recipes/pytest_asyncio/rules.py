"""pytest-asyncio's breaking changes as declared data: links, loop scopes, rules and known releases."""

from __future__ import annotations

from fleetshift.model import Action
from fleetshift.recipes import _pytest_config as pc
from fleetshift.recipes.base import Rule

DOCS = "https://pytest-asyncio.readthedocs.io/en/stable"
MIGRATE_021 = f"{DOCS}/how-to-guides/migrate_from_0_21.html"
MIGRATE_023 = f"{DOCS}/how-to-guides/migrate_from_0_23.html"
CHANGELOG = f"{DOCS}/reference/changelog.html"
CONFIG = f"{DOCS}/reference/configuration.html"
FIXTURES = f"{DOCS}/reference/fixtures/index.html"
CONCEPTS = f"{DOCS}/concepts.html"

SCOPES = pc.SCOPES
WIDE = pc.WIDE
RANK = {s: i for i, s in enumerate(SCOPES)}
MARK = "pytest.mark.asyncio"
OTHER_MARKS = ("pytest.mark.anyio", "pytest.mark.trio")
BUILTIN_FIXTURES = frozenset(
    "self cls request tmp_path tmp_path_factory tmpdir tmpdir_factory monkeypatch capsys capfd caplog "
    "recwarn pytestconfig record_property record_testsuite_property doctest_namespace cache capsysbinary "
    "capfdbinary subtests event_loop_policy unused_tcp_port unused_udp_port".split()
)


def _r(slug: str, summary: str, action: Action, fix: str, link: str, since: str) -> Rule:
    return Rule(f"pytest-asyncio/{slug}", summary, action, fix, link, since)


RULES = (
    _r(
        "event-loop-fixture",
        "a test or fixture requests the removed `event_loop` fixture",
        Action.AUTO,
        "async functions use asyncio.get_running_loop(); sync ones whose only use is "
        "event_loop.run_until_complete(E) become async and await E; otherwise convert <name> to an async "
        "test/fixture and use asyncio.get_running_loop() (pytest-asyncio >=1.0 removed the event_loop fixture)",
        MIGRATE_021,
        "1.0.0",
    ),
    _r(
        "event-loop-request",
        "`event_loop` requested by name (getfixturevalue / usefixtures)",
        Action.HUMAN,
        "pytest-asyncio >=1.0 removed the event_loop fixture; request nothing and use asyncio.get_running_loop() "
        "inside an async test or fixture",
        MIGRATE_021,
        "1.0.0",
    ),
    _r(
        "event-loop-override",
        "custom `event_loop` fixture override (ignored by pytest-asyncio >=1.0)",
        Action.AUTO,
        "a plain override is deleted: root-conftest session/module scope becomes the config defaults "
        "asyncio_default_fixture_loop_scope/asyncio_default_test_loop_scope; a module or class override becomes "
        "loop_scope on the asyncio marker and on the async fixtures defined beside it",
        MIGRATE_021,
        "1.0.0",
    ),
    _r(
        "event-loop-override-custom",
        "`event_loop` override that cannot be translated",
        Action.HUMAN,
        "this custom event_loop override is ignored by pytest-asyncio >=1.0 (tests and fixtures then silently run "
        "in different loops); port it to loop_scope markers/config defaults, and a custom loop to "
        "pytest_asyncio_loop_factories (pytest-asyncio >=1.4) or an event_loop_policy fixture (1.3)",
        MIGRATE_021,
        "1.0.0",
    ),
    _r(
        "event-loop-policy",
        "`event_loop_policy` fixture override (deprecated in 1.4)",
        Action.HUMAN,
        "overriding event_loop_policy warns from pytest-asyncio 1.4 (an error under filterwarnings=error); use the "
        "pytest_asyncio_loop_factories(config, item) hook once pinned to >=1.4 (the hook name is rejected by 1.3)",
        CHANGELOG,
        "1.4.0",
    ),
    _r(
        "marker-scope",
        "`scope=` on the asyncio marker",
        Action.AUTO,
        "renamed to loop_scope= (scope= is deprecated and an error under filterwarnings=error)",
        MIGRATE_023,
        "0.24",
    ),
    _r(
        "fixture-loop-scope",
        "wider-scoped async fixture without loop_scope",
        Action.AUTO,
        "loop_scope=<scope> is added (pytest_asyncio.fixture, since pytest.fixture has no loop_scope); without it "
        "the fixture fails with ScopeMismatch once asyncio_default_fixture_loop_scope is function",
        MIGRATE_023,
        "0.24",
    ),
    _r(
        "fixture-loop-scope-dynamic",
        "async fixture with a non-literal scope",
        Action.HUMAN,
        "cannot infer loop_scope for a dynamically scoped async fixture; set loop_scope explicitly",
        MIGRATE_023,
        "0.24",
    ),
    _r(
        "default-loop-scope",
        "asyncio_default_fixture_loop_scope unset",
        Action.AUTO,
        "asyncio_default_fixture_loop_scope is written to the active pytest config (unset it warns, and pytest "
        ">=9.2 with filterwarnings=error stops with INTERNALERROR)",
        CONFIG,
        "0.24",
    ),
    _r(
        "asyncio-mode",
        "asyncio_mode set in the pytest config",
        Action.INFO,
        "kept as it is: strict is the default, so removing auto makes unmarked async tests fail",
        CONFIG,
        "0.19",
    ),
    _r(
        "strict-async-fixture",
        "`@pytest.fixture` on an async function in strict mode",
        Action.AUTO,
        "becomes @pytest_asyncio.fixture (pytest >=9 errors on an unhandled async fixture)",
        CONFIG,
        "0.25",
    ),
    _r(
        "strict-async-fixture-other-plugin",
        "async fixture in a service that also uses anyio/trio",
        Action.HUMAN,
        "the async fixture may belong to anyio/trio; mark it @pytest_asyncio.fixture if pytest-asyncio should run "
        "it",
        CONFIG,
        "0.25",
    ),
    _r(
        "unmarked-async-test",
        "async test without an asyncio marker in strict mode",
        Action.AUTO,
        "@pytest.mark.asyncio is added (pytest 8.3 skipped such a test; pytest >=8.4 fails it)",
        CONCEPTS,
        "0.19",
    ),
    _r(
        "marker-hook",
        "conftest hook that adds asyncio markers",
        Action.INFO,
        "tests may be marked by a pytest_collection_modifyitems hook; no markers are added in this service",
        MIGRATE_023,
        "0.23",
    ),
    _r(
        "mark-on-fixture",
        "a mark applied to a fixture",
        Action.AUTO,
        "@pytest.mark.asyncio on a fixture is deleted (it never had an effect; pytest >=9 fails collection)",
        CHANGELOG,
        "9.0",
    ),
    _r(
        "get-event-loop",
        "asyncio.get_event_loop() inside a coroutine",
        Action.AUTO,
        "replaced by asyncio.get_running_loop()",
        FIXTURES,
        "1.4.0",
    ),
    _r(
        "get-event-loop-sync",
        "asyncio.get_event_loop() in sync code",
        Action.HUMAN,
        "sync call to asyncio.get_event_loop(): fails with pytest-asyncio >=1.4 after any async test, and on Python "
        ">=3.14; use asyncio.run()/asyncio.Runner, an async fixture, or @pytest_asyncio.fixture",
        CHANGELOG,
        "1.4.0",
    ),
    _r(
        "loop-scope-mismatch",
        "tests widened to a shared loop use fixtures from elsewhere",
        Action.INFO,
        "tests here run in a wider loop but async fixtures from conftest default to a function loop; objects bound "
        "to a loop (futures, locks, clients) will break — give those fixtures the same loop_scope",
        CONCEPTS,
        "1.0.0",
    ),
)


PA_VERSIONS = (
    "0.17.2", "0.18.3", "0.19.0", "0.20.3", "0.21.0", "0.21.1", "0.21.2", "0.22.0", "0.23.0", "0.23.2", "0.23.5",
    "0.23.6", "0.23.7", "0.23.8", "0.24.0", "0.25.0", "0.25.3", "0.26.0", "1.0.0", "1.1.0", "1.1.1", "1.2.0",
    "1.3.0", "1.4.0", "1.4.1", "1.4.1.post1", "1.5.0",
)  # fmt: skip


# Real pytest releases, oldest first: the pytest recipe's `known_versions` and the judge of pytest pins here.
PYTEST_VERSIONS = (
    "7.0.1", "7.4.4", "8.0.0", "8.0.2", "8.1.1", "8.1.2", "8.2.0", "8.2.2", "8.3.0", "8.3.3", "8.3.4", "8.3.5",
    "8.4.0", "8.4.1", "8.4.2", "9.0.0", "9.0.1", "9.0.2", "9.0.3", "9.1.0", "9.1.1", "9.2.0",
)  # fmt: skip
