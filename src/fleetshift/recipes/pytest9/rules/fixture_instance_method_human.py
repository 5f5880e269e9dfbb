"""wider-scoped instance-method fixture that uses its instance

the fixture uses self beyond class attributes; make it a @classmethod (below the fixture decorator) or a
module-level fixture by hand
"""

from __future__ import annotations

from collections.abc import Iterator

from fleetshift.recipes.pytest9.facts import Facts, Site
from fleetshift.recipes.pytest9.rules import DEPRECATIONS
from fleetshift.recipes.pytest9.rules.fixture_instance_method import fixture_methods
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="9.1", link=DEPRECATIONS, order=10)
NEEDS = (("fixture",), ("scope",), ("class",))  # as fixture-instance-method


def check(facts: Facts) -> Iterator[Site]:
    """A wider-scoped fixture method that uses `self` beyond class attributes (fixture-instance-method leaves
    it)."""
    for node, scope, _, beyond in fixture_methods(facts):
        if beyond:
            yield (
                node,
                (
                    f"{scope}-scoped fixture {node.name} is an instance method (deprecated from pytest 9.1/9.2) "
                    "and uses self beyond class attributes; make it a @classmethod below the fixture decorator, "
                    "or move it out of the class"
                ),
            )
