"""a test or fixture requests the removed `event_loop` fixture

async functions use asyncio.get_running_loop(); sync ones whose only use is
event_loop.run_until_complete(E) become async and await E; otherwise convert <name> to an async
test/fixture and use asyncio.get_running_loop() (pytest-asyncio >=1.0 removed the event_loop fixture)
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.model import Severity
from fleetshift.recipes.pytest_asyncio.facts import ModuleFacts, Site, sync_loop_use
from fleetshift.recipes.pytest_asyncio.fixing import FileFix
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    import libcst as cst

RULE = rule(__name__, __doc__, AUTO, since="1.0.0", order=0)
NEEDS = (("event_loop",),)  # a parameter's name


def check(facts: ModuleFacts) -> Iterator[Site]:
    """Tests and fixtures (not event_loop overrides) with an `event_loop` parameter (a sync one that uses the loop
    beyond `run_until_complete` is event-loop-sync-use's)."""
    if not facts.names("event_loop"):  # a parameter's name
        return
    for d in facts.defs:
        if d.fixture != "event_loop" and "event_loop" in d.params and (d.is_test or d.deco is not None):
            if isinstance(d.fn, ast.AsyncFunctionDef):
                drives = any(
                    isinstance(n, ast.Attribute)
                    and isinstance(n.value, ast.Name)
                    and n.value.id == "event_loop"
                    and n.attr in ("run_until_complete", "run_forever")
                    for n in ast.walk(d.fn)
                )
            else:
                use = sync_loop_use(d.fn)
                if use == "other":
                    continue  # event-loop-sync-use's
                drives = use == "drives"
            # one the run cannot rewrite is reported there, for a human: not an automatic site
            yield Site(d.fn, f"{d.fn.name} requests event_loop", info=drives)


class Fix(FileFix):
    """Drop the `event_loop` parameter: loop uses become `asyncio.get_running_loop()`, a sync
    function whose only use is `event_loop.run_until_complete(E)` becomes async and awaits E."""

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        from fleetshift.recipes.pytest_asyncio.event_loop import param_names

        info = self.facts.funcs.get(original)
        if info is None or info.loop_owner or "event_loop" not in param_names(updated):
            return updated
        if not (info.is_test or info.fixture is not None):
            return updated
        return self._convert(original, updated, info.is_test, info.line)

    def _convert(self, original: cst.FunctionDef, fn: cst.FunctionDef, is_test: bool, line: int) -> cst.FunctionDef:
        import libcst as cst

        from fleetshift.recipes import fixes
        from fleetshift.recipes._pytest_config import syntax as pcs
        from fleetshift.recipes.pytest_asyncio.event_loop import (
            LoopAttr,
            LoopNames,
            ToAwait,
            insert_first,
            sync_use,
        )
        from fleetshift.recipes.pytest_asyncio.tree import to_pa_fixture

        facts = self.facts
        what = "test" if is_test else "fixture"
        if facts.survey.kept_override is not None:
            ov = facts.survey.kept_override
            self.findings.append(
                facts.finding(
                    original,
                    RULE.id,
                    f"{what} {fn.name.value} requests event_loop, which resolves to the custom override at "
                    f"{ov.path}:{ov.line} that is left for a human; migrate both together",
                    Severity.HUMAN,
                    line,
                )
            )
            return fn
        names = LoopNames("event_loop")
        fixes.read(fn.body, names)  # it only reads: no copy of the body is built
        if fn.asynchronous is not None:
            # stop()/close() act on the running loop as they did on the fixture's: running-loop-stop reports them
            bad = (names.attrs | names.nested_attrs) & {"run_until_complete", "run_forever"}
            if bad:
                self.findings.append(
                    facts.finding(
                        original,
                        RULE.id,
                        f"async {what} {fn.name.value} calls event_loop.{sorted(bad)[0]}(), which cannot run inside "
                        "the running loop; pytest-asyncio >=1.0 removed the event_loop fixture: rewrite it with await",
                        Severity.HUMAN,
                        line,
                    )
                )
                return fn
            self.needs.add("asyncio")
            fn = pcs.drop_param(fn, "event_loop")
            if names.total and names.total == names.attr_uses and not names.nested:
                return fn.with_changes(body=fn.body.visit(LoopAttr("event_loop", facts.asyncio_name)))
            if names.total:
                assign = cst.parse_statement(f"event_loop = {facts.asyncio_name}.get_running_loop()\n")
                return insert_first(fn, assign)
            return fn
        # sync test/fixture: `event_loop.run_until_complete(E)` becomes `await E`; richer uses are
        # event-loop-sync-use's, a loop it drives itself is a human's call
        use = sync_use(names)
        if use == "none":
            return pcs.drop_param(fn, "event_loop")
        if use == "other":
            return fn
        if use == "drives":
            self.findings.append(
                facts.finding(
                    original,
                    RULE.id,
                    f"pytest-asyncio >=1.0 removed the event_loop fixture; {what} {fn.name.value} starts, stops or "
                    f"closes the loop or makes loops of its own: convert it to an async {what} and use "
                    "asyncio.get_running_loop() (see migrate_from_0_21)",
                    Severity.HUMAN,
                    line,
                )
            )
            return fn
        body = fn.body.visit(ToAwait("event_loop"))
        fn = pcs.drop_param(fn, "event_loop").with_changes(
            body=body, asynchronous=cst.Asynchronous(whitespace_after=cst.SimpleWhitespace(" "))
        )
        if not is_test and facts.survey.mode == "strict":
            fix = pcs.fixture_decorator(fn, facts.imports)
            if fix is not None and fix[1] != "pytest_asyncio.fixture":
                self.needs.add("pytest_asyncio")
                fn = to_pa_fixture(fn, fix)
        return fn
