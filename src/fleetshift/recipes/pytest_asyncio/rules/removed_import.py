"""a `pytest_asyncio` name that pytest-asyncio 1.x does not have

imports and uses of pytest_asyncio / pytest_asyncio.plugin names missing from pytest-asyncio 1.x fail with
ImportError/AttributeError; request a fixture instead (event_loop: asyncio.get_running_loop() in an async test
or fixture), or use the public API (pytest_asyncio.fixture, pytest_asyncio.is_async_test, pytest.FixtureRequest)
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from fleetshift.recipes.pytest_asyncio.facts import ModuleFacts, Site
from fleetshift.recipes.pytest_asyncio.fixing import ReportChecks
from fleetshift.recipes.pytest_asyncio.gates import near, word_lines
from fleetshift.recipes.pytest_asyncio.needs import REMOVED_IMPORT
from fleetshift.recipes.pytest_asyncio.rules import CHANGELOG
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="1.0.0", link=CHANGELOG, order=19)
NEEDS = ((REMOVED_IMPORT,),)  # pytest_asyncio spelled otherwise than as what 1.x keeps

# What `pytest_asyncio` and `pytest_asyncio.plugin` hold in every release from 1.0.0 to 1.5.0 (listed from
# each installed release with dir(); the re-exported stdlib and pytest names are included, as they import).
EXPORTS = {
    "pytest_asyncio": frozenset({"__version__", "fixture", "is_async_test", "plugin"}),
    "pytest_asyncio.plugin": frozenset(
        """
        ASYNCIO_MODE_HELP AbstractEventLoop Any AsyncGenerator AsyncHypothesisTest AsyncIterator AsyncStaticMethod
        Awaitable Callable Config Coroutine FixtureDef FixtureFunction FixtureRequest Function Generator Item
        Iterable Iterator Literal Mark Mode ParamSpec Parser PytestAsyncioError PytestAsyncioFunction
        PytestCollectionWarning PytestDeprecationWarning PytestPluginManager Scope Sequence TypeVar
        _DEFAULT_FIXTURE_LOOP_SCOPE_UNSET _DUPLICATE_LOOP_SCOPE_DEFINITION_ERROR
        _MARKER_SCOPE_KWARG_DEPRECATION_WARNING _P _R _ScopeName _apply_contextvar_changes _get_asyncio_mode
        _get_default_test_loop_scope _get_event_loop_no_warn _get_event_loop_policy _is_asyncio_fixture_function
        _is_coroutine_or_asyncgen _make_asyncio_fixture_function _set_event_loop _set_event_loop_policy
        _temporary_event_loop_policy _unused_port _wrap_async_fixture _wrap_asyncgen_fixture annotations asyncio
        contextlib contextvars enum event_loop_policy fixture functools inspect is_async_test overload pluggy
        pytest pytest_addoption pytest_configure pytest_pycollect_makeitem_convert_async_functions_to_subclass
        pytest_pyfunc_call pytest_report_header scope socket sys unused_tcp_port unused_tcp_port_factory
        unused_udp_port unused_udp_port_factory warnings
        """.split()
    ),
}
HINTS = {
    "event_loop": "the event_loop fixture is gone: use asyncio.get_running_loop() in an async test or fixture",
    "SubRequest": "use _pytest.fixtures.SubRequest (or pytest.FixtureRequest)",
    "wrap_in_sync": "tests run through pytest-asyncio's own runner now; call the coroutine with await",
    "pytest_runtest_setup": "the hook implementation is gone; do not call it",
}


def _missing(module: str, name: str) -> str | None:
    if name in EXPORTS[module] or (module == "pytest_asyncio" and name == "plugin"):
        return None
    hint = HINTS.get(name, "find its public replacement or drop it")
    return f"{module}.{name} does not exist in pytest-asyncio 1.x (ImportError/AttributeError); {hint}"


def check(facts: ModuleFacts) -> Iterator[Site]:
    """Every import, and every attribute use, of a name pytest-asyncio 1.x lacks."""
    if not facts.imports.imports_module("pytest_asyncio"):
        return  # each site is an import of pytest_asyncio or a name one bound
    seen: set[tuple[int, str]] = set()
    # each site holds the module's name, or a name an import binds to it or to one of its names
    words = ["pytest_asyncio", *(n for n, q in facts.imports.names.items() if q.split(".")[0] == "pytest_asyncio")]
    lines = word_lines(facts.text, words)
    nodes = ast.walk(facts.tree) if lines is None else near(facts.tree, lines, (ast.ImportFrom, ast.Import, ast.Attribute))
    for node in nodes:
        found: list[tuple[str, str]] = []
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module in EXPORTS:
            module = node.module
            found = [(module, a.name) for a in node.names if a.name != "*"]
            if module == "pytest_asyncio.plugin":  # SubRequest there is the subrequest-import rule's (rewritten)
                found = [(m, n) for m, n in found if n != "SubRequest"]
        elif isinstance(node, ast.Import):
            for a in node.names:
                head, _, rest = a.name.partition(".")
                if head == "pytest_asyncio" and rest:
                    found.append(("pytest_asyncio", rest.split(".")[0]))
        elif isinstance(node, ast.Attribute):
            q = facts.imports.qualname(node) or ""
            parts = q.split(".")
            if parts[:2] == ["pytest_asyncio", "plugin"] and len(parts) > 2:
                found.append(("pytest_asyncio.plugin", parts[2]))
            elif parts[0] == "pytest_asyncio" and len(parts) > 1:
                found.append(("pytest_asyncio", parts[1]))
        for module, name in found:
            message = _missing(module, name)
            if message and (node.lineno, f"{module}.{name}") not in seen:
                seen.add((node.lineno, f"{module}.{name}"))
                yield Site(node, message)


class Fix(ReportChecks):
    """Nothing to rewrite: what `check` finds is reported at its line."""

    rule_id = RULE.id

    def sites(self, facts: ModuleFacts) -> Iterator[Site]:
        return check(facts)
