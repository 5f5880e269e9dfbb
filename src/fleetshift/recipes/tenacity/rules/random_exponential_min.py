"""`wait_random_exponential(min=...)` is now honoured

wait_random_exponential(min=...) now really waits at least min (tenacity>=9.0); back-off gets longer.
Keep it (intended) or drop min= to keep 8.x timing
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from fleetshift.recipes._ast import keyword
from fleetshift.recipes.rule import HUMAN, rule
from fleetshift.recipes.tenacity.resolve import Facts

RULE = rule(__name__, __doc__, HUMAN, since="9.0.0", link="https://github.com/jd/tenacity/pull/425", order=10)


def check(facts: Facts) -> Iterator[tuple[ast.AST, str]]:
    """`wait_random_exponential`/`wait_full_jitter` given a minimum (keyword or 4th positional)."""
    if not facts.tenacity:
        return  # no tenacity name without tenacity written
    for node in facts.nodes(ast.Call):
        assert isinstance(node, ast.Call)
        if facts.qual(node.func) in ("tenacity.wait_random_exponential", "tenacity.wait_full_jitter"):
            if keyword(node, "min") is not None or len(node.args) >= 4:
                yield node, ""
