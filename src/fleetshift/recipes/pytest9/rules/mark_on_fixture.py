"""a mark applied to a fixture

@pytest.mark.asyncio on a fixture is deleted (it never had an effect); pytest 9.0 fails collection
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.recipes._ast import decorator_calls
from fleetshift.recipes.pytest9.facts import Facts, OuterFunctionFix, Site
from fleetshift.recipes.pytest9.needs import DecoratorsNeed
from fleetshift.recipes.pytest9.rules import DEPRECATIONS
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    import libcst as cst

RULE = rule(__name__, __doc__, AUTO, since="9.0", link=DEPRECATIONS, order=7)
NEEDS = ((DecoratorsNeed("fixture", "mark"),), ("asyncio",))  # a fixture decorator and a mark on one definition


def check(facts: Facts) -> Iterator[Site]:
    """`@pytest.mark.asyncio` on a fixture."""
    if not (facts.names("fixture") and facts.names("mark") and facts.names("asyncio")):
        return  # a fixture decorator, and pytest.mark.asyncio (an attribute or a name an import binds)
    for node in facts.fixtures:
        for func, _ in decorator_calls(node):
            if facts.imports.qualname(func) == "pytest.mark.asyncio":
                yield node, ""


class Fix(OuterFunctionFix):
    """Delete `@pytest.mark.asyncio` from fixtures that are not nested in a function."""

    def rewrite_outer(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        from fleetshift.recipes._pytest_config import syntax as pcs

        if pcs.fixture_decorator(updated, self.imports) is None:
            return updated
        return pcs.without_decorator(updated, self.imports, "pytest.mark.asyncio")
