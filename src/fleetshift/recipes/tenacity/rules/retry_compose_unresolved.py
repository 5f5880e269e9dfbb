"""a retry composition whose operands could not be resolved

`a | b` / `a & b` raises AttributeError on tenacity 8.4-9.1.4 when an operand is a plain function; write
retry_any(a, b) / retry_all(a, b)
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from fleetshift.recipes.rule import HUMAN, rule
from fleetshift.recipes.tenacity.resolve import Facts, compositions

RULE = rule(__name__, __doc__, HUMAN, since="8.4.0", link="https://github.com/jd/tenacity/pull/606", order=9)


def check(facts: Facts) -> Iterator[tuple[ast.AST, str]]:
    for node in compositions(facts, "human"):
        yield node, (
            f"`{ast.unparse(node)}`: if an operand is a plain function this raises AttributeError on tenacity "
            "8.4-9.1.4; write retry_any(...) / retry_all(...)"
        )
