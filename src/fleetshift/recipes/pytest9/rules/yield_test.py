"""a test function that yields

yield tests are a collection error since pytest 8.4; use parametrize
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator

from fleetshift.recipes import _pytest_config as pc
from fleetshift.recipes.pytest9.facts import Facts, Site, yields
from fleetshift.recipes.pytest9.needs import YieldingTest
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="8.4", order=17)
NEEDS = ((YieldingTest(),),)  # a test function that yields


def check(facts: Facts) -> Iterator[Site]:
    """A test function (not a fixture) in a test module, at module level or in a Test class, that yields."""
    if facts.test_module and facts.yield_lines:
        yield from _tests(facts.tree.body, facts, collected=True)


def _tests(body: Iterable[ast.stmt], facts: Facts, collected: bool) -> Iterator[Site]:
    for node in body:
        if isinstance(node, ast.ClassDef):
            yield from _tests(node.body, facts, node.name.startswith("Test"))
        elif (
            isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and collected
            and node.name.startswith("test")
            and pc.ast_fixture_call(node, facts.imports) is None
            and yields(node, facts.yield_lines)
        ):
            yield node, ""
