"""`wait_chain()` with no strategies raises ValueError at construction

give wait_chain() at least one strategy (it raised IndexError on first use before)
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from fleetshift.recipes.rule import INFO, rule
from fleetshift.recipes.tenacity.resolve import Facts

RULE = rule(__name__, __doc__, INFO, since="9.2.1", link="https://github.com/jd/tenacity/pull/647", order=16)


def check(facts: Facts) -> Iterator[tuple[ast.AST, str]]:
    if not facts.tenacity:
        return  # no tenacity name without tenacity written
    for node in facts.nodes(ast.Call):
        assert isinstance(node, ast.Call)
        if facts.qual(node.func) == "tenacity.wait_chain" and not node.args and not node.keywords:
            yield node, ""
