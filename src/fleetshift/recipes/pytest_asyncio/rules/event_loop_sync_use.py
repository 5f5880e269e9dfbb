"""a sync test or fixture uses the removed `event_loop` beyond run_until_complete

it becomes an async test/fixture on the running loop: event_loop.run_until_complete(E) becomes await E (also
for a coroutine stored first, and inside try/except), other uses (create_future, call_soon/call_later handles,
create_server, the loop passed to a constructor, asyncio.all_tasks(loop) without the fixture's own task) reach
asyncio.get_running_loop(); setup, teardown and their exception handling keep their order
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.recipes.pytest_asyncio.facts import ModuleFacts, Site, sync_loop_use
from fleetshift.recipes.pytest_asyncio.fixing import FileFix
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    import libcst as cst

RULE = rule(__name__, __doc__, AUTO, since="1.0.0", order=0)
NEEDS = (("event_loop",),)  # a parameter's name


def check(facts: ModuleFacts) -> Iterator[Site]:
    """Sync tests and fixtures whose `event_loop` does more than run coroutines to completion."""
    if not facts.names("event_loop"):  # a parameter's name
        return
    for d in facts.defs:
        if d.fixture == "event_loop" or "event_loop" not in d.params or isinstance(d.fn, ast.AsyncFunctionDef):
            continue
        if (d.is_test or d.deco is not None) and sync_loop_use(d.fn) == "other":
            yield Site(d.fn, f"sync {'test' if d.is_test else 'fixture'} {d.fn.name} uses event_loop")


class Fix(FileFix):
    """The function becomes a coroutine on the running loop (a fixture becomes @pytest_asyncio.fixture in
    strict mode); the asyncio marker and loop_scope are left to the rules that add them."""

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        from fleetshift.recipes import fixes
        from fleetshift.recipes._pytest_config import syntax as pcs
        from fleetshift.recipes.pytest_asyncio.event_loop import LoopNames, make_async, param_names, sync_use
        from fleetshift.recipes.pytest_asyncio.tree import to_pa_fixture

        facts = self.facts
        info = facts.funcs.get(original)
        if info is None or info.loop_owner or updated.asynchronous is not None:
            return updated
        if "event_loop" not in param_names(updated) or not (info.is_test or info.fixture is not None):
            return updated
        if facts.survey.kept_override is not None:
            return updated  # event-loop-fixture reports it with the override it resolves to
        names = LoopNames("event_loop")
        fixes.read(updated.body, names)  # it only reads: no copy of the body is built
        if sync_use(names) != "other":
            return updated
        self.needs.add("asyncio")
        fn = make_async(
            pcs.drop_param(updated, "event_loop"),
            names,
            facts.asyncio_name,
            lambda func: facts.imports.qualname(func) == "asyncio.all_tasks",
        )
        if info.fixture is not None and facts.survey.mode == "strict":
            fix = pcs.fixture_decorator(fn, facts.imports)
            if fix is not None and fix[1] != "pytest_asyncio.fixture":
                self.needs.add("pytest_asyncio")
                fn = to_pa_fixture(fn, fix)
        return fn
