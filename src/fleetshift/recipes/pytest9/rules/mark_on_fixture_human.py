"""a mark with an effect intended on a fixture

marks cannot be applied to fixtures (collection error from pytest 9.0); for usefixtures move the
dependency into the fixture's parameters, otherwise move the mark to the tests
"""

from __future__ import annotations

from collections.abc import Iterator

from fleetshift.recipes._ast import decorator_calls
from fleetshift.recipes.pytest9.facts import Facts, Site
from fleetshift.recipes.pytest9.needs import DecoratorsNeed
from fleetshift.recipes.pytest9.rules import DEPRECATIONS
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="9.0", link=DEPRECATIONS, order=8)
NEEDS = ((DecoratorsNeed("fixture", "mark"),),)  # a fixture decorator and a mark on one definition


def check(facts: Facts) -> Iterator[Site]:
    """A `pytest.mark.*` other than asyncio on a fixture."""
    if not (facts.names("fixture") and facts.names("mark")):
        return  # a fixture decorator, and a pytest.mark.* (an attribute or a name an import binds)
    for node in facts.fixtures:
        for func, _ in decorator_calls(node):
            q = facts.imports.qualname(func) or ""
            if q.startswith("pytest.mark.") and q != "pytest.mark.asyncio":
                yield (
                    node,
                    (
                        f"@{q} on fixture {node.name}: marks cannot be applied to fixtures (pytest 9); "
                        + (
                            "move the dependency into the fixture's parameters"
                            if q.endswith("usefixtures")
                            else "move the mark to the tests that need it"
                        )
                    ),
                )
