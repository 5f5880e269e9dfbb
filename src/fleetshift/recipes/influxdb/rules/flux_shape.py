"""code reads Flux-only columns of the records (`_start`, `_stop`, `table`, `result`)

SQL rows carry _time, _measurement, _field, _value and tags only: compute the window bounds in Python, or
select them in the SQL (`<start> AS _start`)
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from fleetshift.recipes.influxdb.facts import Facts
from fleetshift.recipes.influxdb.rules import SQL_DOCS
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, link=SQL_DOCS, order=35)
NODES = (ast.Constant, ast.JoinedStr, ast.BinOp)  # the node types its check looks at


def check(node: ast.AST, facts: Facts) -> Iterator[str]:
    """A Flux string whose readers read `_start`/`_stop`/`table`/`result`."""
    return facts.flux.reported(node, RULE.slug)
