"""subscribe() returns a list of ReasonCode, not a tuple of ints

Compare elements (r[0] == 1 still holds) instead of the whole result against a tuple.
"""

from __future__ import annotations

import ast

from fleetshift.recipes.aiomqtt.facts import Facts, Site
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="2.2.0", order=16)


def check(facts: Facts) -> list[Site]:
    """A comparison of a subscribe() result (or a name bound to one) with a tuple."""
    return [
        facts.human("subscribe-result", node)
        for node in facts.comparisons()
        if compares_subscribe_result(facts, node)
    ]


def compares_subscribe_result(facts: Facts, node: ast.Compare) -> bool:
    operands = [node.left, *node.comparators]
    return any(isinstance(o, ast.Tuple) for o in operands) and any(
        _is_result(facts, o, node) for o in operands
    )


def _is_result(facts: Facts, node: ast.AST, at: ast.AST) -> bool:
    if isinstance(node, ast.Await):
        node = node.value
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "subscribe":
        return True
    if isinstance(node, ast.Name):
        for n in ast.walk(facts.func_of(at) or facts.tree):
            if isinstance(n, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == node.id for t in n.targets
            ):
                if _is_result(facts, n.value, at):
                    return True
    return False
