"""a fixture converted to async would run on another loop than its tests

a sync fixture that used event_loop ran on the test's loop; once async it runs on the
asyncio_default_fixture_loop_scope loop, so with a wider default (e.g. session) and function-scoped tests
its servers and futures sit on a loop that is not running during the test (it hangs): the converted fixture
gets loop_scope=<the loop its event_loop was>
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fleetshift.recipes.pytest_asyncio.fixing import FileFix
from fleetshift.recipes.pytest_asyncio.rules import MIGRATE_023, RANK
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    import libcst as cst

RULE = rule(__name__, __doc__, AUTO, since="1.0.0", link=MIGRATE_023, order=6)


class Fix(FileFix):
    """`loop_scope=` on a fixture converted in this walk when the configured default loop is another one
    (as `@pytest_asyncio.fixture`, since `pytest.fixture` has no loop_scope)."""

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        import libcst as cst

        from fleetshift.recipes._pytest_config import syntax as pcs
        from fleetshift.recipes.pytest_asyncio.tree import to_pa_fixture

        facts = self.facts
        info = facts.funcs.get(original)
        if info is None or info.fixture is None or info.loop_owner or info.is_async or updated.asynchronous is None:
            return updated
        fix = pcs.fixture_decorator(updated, facts.imports)
        if fix is None or pcs.kwarg(fix[2], "loop_scope") is not None:
            return updated
        scope_arg = pcs.kwarg(fix[2], "scope")
        scope = "function" if scope_arg is None else pcs.string_value(scope_arg.value)
        container, _ = facts.container(info)
        needed = container or facts.survey.root_loop or "function"
        if scope not in RANK or RANK[needed] < RANK[scope] or needed == facts.default_fixture_loop():
            return updated
        fn = updated
        if fix[1] != "pytest_asyncio.fixture":
            self.needs.add("pytest_asyncio")
            fn = to_pa_fixture(fn, fix)
            fix = pcs.fixture_decorator(fn, facts.imports) or fix
        idx, _, call = fix
        decs = list(fn.decorators)
        base = call if call is not None else cst.Call(decs[idx].decorator)
        quote = scope_arg.value if scope_arg is not None else None
        decs[idx] = decs[idx].with_changes(decorator=pcs.with_kwarg(base, "loop_scope", pcs.string_like(quote, needed)))
        return fn.with_changes(decorators=decs)
