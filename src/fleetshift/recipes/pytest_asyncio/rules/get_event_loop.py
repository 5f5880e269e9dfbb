"""asyncio.get_event_loop() inside a coroutine

replaced by asyncio.get_running_loop()
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.recipes.pytest_asyncio.facts import ModuleFacts, Site
from fleetshift.recipes.pytest_asyncio.fixing import FileFix
from fleetshift.recipes.pytest_asyncio.rules import FIXTURES
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    import libcst as cst

RULE = rule(__name__, __doc__, AUTO, since="1.4.0", link=FIXTURES, order=15)
NEEDS = (("get_event_loop",),)


def check(facts: ModuleFacts) -> Iterator[Site]:
    """`asyncio.get_event_loop()` whose innermost function is a coroutine."""
    if not facts.names("get_event_loop"):
        return
    for call, in_async in facts.calls:
        if in_async and not call.args and facts.imports.qualname(call.func) == "asyncio.get_event_loop":
            yield Site(call)


class Fix(FileFix):
    """`asyncio.get_event_loop()` becomes `asyncio.get_running_loop()` inside a coroutine."""

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        import libcst as cst

        facts = self.facts
        if updated.args or facts.imports.qualname(updated.func) != "asyncio.get_event_loop":
            return updated
        if original not in facts.async_calls:  # asked last: the calls in coroutines are found when first asked for
            return updated
        func = updated.func
        if isinstance(func, cst.Attribute):
            return updated.with_changes(func=func.with_changes(attr=cst.Name("get_running_loop")))
        self.needs.add("asyncio")
        return updated.with_changes(func=cst.Attribute(cst.Name(facts.asyncio_name), cst.Name("get_running_loop")))
