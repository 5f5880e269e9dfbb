"""`loop.stop()` / `loop.close()` on the running loop inside an async test or fixture

pytest-asyncio runs the test on its own loop and closes it itself: stop() ends the run early unless it is the
last thing the test does (RuntimeError: Event loop stopped before Future completed) and close() raises
RuntimeError (Cannot close a running event loop); delete the call, and to end a wait use an asyncio.Event or
cancel the task
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from fleetshift.recipes.pytest_asyncio.facts import ModuleFacts, Site
from fleetshift.recipes.pytest_asyncio.fixing import ReportChecks
from fleetshift.recipes.pytest_asyncio.rules import CHANGELOG
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="1.1.0", link=CHANGELOG, order=20)
NEEDS = (("stop", "close"), ("event_loop", "get_running_loop"), ("async",))  # in an async def

_RUNNING = frozenset({"asyncio.get_running_loop", "asyncio.get_event_loop"})


def check(facts: ModuleFacts) -> Iterator[Site]:
    """In async tests and fixtures: `X.stop()`/`X.close()` where X is the `event_loop` parameter, a name bound to
    `asyncio.get_running_loop()`/`get_event_loop()` there, or such a call itself."""
    if not (facts.names("stop", "close") and facts.names("event_loop", "get_running_loop")):
        return  # a site calls stop/close on the event_loop parameter or on what a loop getter returned
    for d in facts.defs:
        if not isinstance(d.fn, ast.AsyncFunctionDef) or not (d.is_test or d.deco is not None):
            continue
        loops = {"event_loop"} & set(d.params)
        for node in ast.walk(d.fn):
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Call)
                and facts.imports.qualname(node.value.func) in _RUNNING
            ):
                loops |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        for node in ast.walk(d.fn):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr not in ("stop", "close") or node.args or node.keywords:
                continue
            target = node.func.value
            named = isinstance(target, ast.Name) and target.id in loops
            called = isinstance(target, ast.Call) and facts.imports.qualname(target.func) in _RUNNING
            if named or called:
                expr = ast.unparse(node)
                yield Site(
                    node,
                    f"{expr} in {d.fn.name} acts on the loop pytest-asyncio runs it on; proposed change: delete "
                    f"`{expr}` (pytest-asyncio >=1.0 closes its loops itself; to end a wait, set an asyncio.Event or "
                    "cancel the task)",
                )


class Fix(ReportChecks):
    """Nothing to rewrite: what `check` finds is reported at its line with the proposed change."""

    rule_id = RULE.id

    def sites(self, facts: ModuleFacts) -> Iterator[Site]:
        return check(facts)
