"""`event_loop` requested by name (getfixturevalue / usefixtures)

pytest-asyncio >=1.0 removed the event_loop fixture; request nothing and use asyncio.get_running_loop()
inside an async test or fixture
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.recipes.pytest_asyncio.facts import ModuleFacts, Site
from fleetshift.recipes.pytest_asyncio.fixing import FileFix
from fleetshift.recipes.pytest_asyncio.needs import EVENT_LOOP
from fleetshift.recipes.rule import HUMAN, rule

if TYPE_CHECKING:
    import libcst as cst

RULE = rule(__name__, __doc__, HUMAN, since="1.0.0", order=1)
NEEDS = (("getfixturevalue", "usefixtures"), (EVENT_LOOP,))  # a call naming the fixture in a string


def check(facts: ModuleFacts) -> Iterator[Site]:
    """`request.getfixturevalue("event_loop")` and `pytest.mark.usefixtures(..., "event_loop")`."""
    if not facts.names("getfixturevalue", "usefixtures"):
        return
    aliases = [n for n, q in facts.imports.names.items() if q == "pytest.mark.usefixtures"]
    for call in facts.calls_near("getfixturevalue", "usefixtures", *aliases):
        if (
            isinstance(call.func, ast.Attribute)
            and call.func.attr == "getfixturevalue"
            and call.args
            and isinstance(call.args[0], ast.Constant)
            and call.args[0].value == "event_loop"
        ):
            yield Site(call)
        elif facts.imports.qualname(call.func) == "pytest.mark.usefixtures" and any(
            isinstance(a, ast.Constant) and a.value == "event_loop" for a in call.args
        ):
            yield Site(call)


class Fix(FileFix):
    """Nothing to rewrite: each request is reported."""

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        import libcst as cst

        from fleetshift.recipes._pytest_config import syntax as pcs

        if isinstance(updated.func, cst.Attribute) and updated.func.attr.value == "getfixturevalue":
            if updated.args and pcs.string_value(updated.args[0].value) == "event_loop":
                self.findings.append(self.facts.finding(original, RULE.id))
        elif self.facts.imports.qualname(updated.func) == "pytest.mark.usefixtures":
            if any(pcs.string_value(a.value) == "event_loop" for a in updated.args):
                self.findings.append(self.facts.finding(original, RULE.id))
        return updated
