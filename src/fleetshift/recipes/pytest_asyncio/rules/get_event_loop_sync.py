"""asyncio.get_event_loop() in sync code

sync call to asyncio.get_event_loop(): fails with pytest-asyncio >=1.4 after any async test, and on
Python >=3.14; use asyncio.run()/asyncio.Runner, an async fixture, or @pytest_asyncio.fixture
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.recipes.pytest_asyncio.facts import ModuleFacts, Site
from fleetshift.recipes.pytest_asyncio.fixing import FileFix
from fleetshift.recipes.pytest_asyncio.rules import CHANGELOG
from fleetshift.recipes.rule import HUMAN, any_of, python_admits, rule, target_admits

if TYPE_CHECKING:
    import libcst as cst

# Where it breaks: a target admitting pytest-asyncio 1.4+ (no current loop after an async test), or a Python
# 3.14+ the service may run on (get_event_loop() without a loop raises there). Elsewhere it still works.
RULE = rule(__name__, __doc__, HUMAN, since="1.4.0", link=CHANGELOG, order=16,
            condition=any_of(target_admits("1.4.0"), python_admits(">=3.14")))
NEEDS = (("get_event_loop",),)


def check(facts: ModuleFacts) -> Iterator[Site]:
    """`asyncio.get_event_loop()` outside a coroutine."""
    if not facts.names("get_event_loop"):
        return
    for call, in_async in facts.calls:
        if not in_async and not call.args and facts.imports.qualname(call.func) == "asyncio.get_event_loop":
            yield Site(call)


class Fix(FileFix):
    """Nothing to rewrite: each sync call is reported."""

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        facts = self.facts
        if updated.args or facts.imports.qualname(updated.func) != "asyncio.get_event_loop":
            return updated
        if original not in facts.async_calls:  # asked last: the calls in coroutines are found when first asked for
            self.findings.append(facts.finding(original, RULE.id))
        return updated
