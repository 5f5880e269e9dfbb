"""wider-scoped async fixture without loop_scope

loop_scope=<scope> is added (pytest_asyncio.fixture, since pytest.fixture has no loop_scope); without it
the fixture fails with ScopeMismatch once asyncio_default_fixture_loop_scope is function
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.recipes.pytest_asyncio.facts import ModuleFacts, Site, async_fixtures
from fleetshift.recipes.pytest_asyncio.fixing import FileFix
from fleetshift.recipes.pytest_asyncio.needs import SCOPED_ASYNC_FIXTURE
from fleetshift.recipes.pytest_asyncio.rules import MIGRATE_023, WIDE
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    import libcst as cst

RULE = rule(__name__, __doc__, AUTO, since="0.24", link=MIGRATE_023, order=6)
NEEDS = (("scope",), ("fixture",), (SCOPED_ASYNC_FIXTURE,))  # a fixture decorator with scope= on an async or pytest_asyncio fixture


def check(facts: ModuleFacts) -> Iterator[Site]:
    """Async fixtures with a literal wider scope and no loop_scope, at the decorator the run gives loop_scope."""
    for f in async_fixtures(facts):
        if f.scope in WIDE and not f.has_loop and isinstance(f.d.deco, ast.Call):
            yield Site(f.d.deco.lineno, f"{f.scope}-scoped async fixture {f.d.fn.name}")


class Fix(FileFix):
    """Give the fixture the loop its scope (or the module/class/root loop it shares) needs, as
    `@pytest_asyncio.fixture(..., loop_scope=...)`."""

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        import libcst as cst

        from fleetshift.recipes._pytest_config import syntax as pcs
        from fleetshift.recipes.pytest_asyncio.tree import plan_of, to_pa_fixture

        _, plan = plan_of(self.facts, original, updated)
        if plan is None or plan.blocked or plan.loop is None:
            return updated
        fn, fix = updated, plan.fix
        if fix[1] != "pytest_asyncio.fixture":
            self.needs.add("pytest_asyncio")
            fn = to_pa_fixture(fn, fix)
            fix = pcs.fixture_decorator(fn, self.facts.imports) or fix
        idx, _, call = fix
        scope_arg = pcs.kwarg(call, "scope")
        decs = list(fn.decorators)
        base = call if call is not None else cst.Call(decs[idx].decorator)
        quote = scope_arg.value if scope_arg is not None else None
        decs[idx] = decs[idx].with_changes(decorator=pcs.with_kwarg(base, "loop_scope", pcs.string_like(quote, plan.loop)))
        return fn.with_changes(decorators=decs)
