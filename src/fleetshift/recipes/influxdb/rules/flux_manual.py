"""a Flux query found by its syntax that the recipe could not translate

InfluxDB 3 serves no Flux: write the SQL by hand (the Finding says what blocks the translation -- a Python
value in range(), `option`, `to()`, `integral()`, several fields aggregated for a caller that reads wide rows,
a query extended at run time -- and carries a proposed SQL where there is one)
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from fleetshift.recipes.influxdb.facts import Facts
from fleetshift.recipes.influxdb.rules import FLUX_FUTURE
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, link=FLUX_FUTURE, order=36)
NODES = (ast.Constant, ast.JoinedStr, ast.BinOp)  # the node types its check looks at


def check(node: ast.AST, facts: Facts) -> Iterator[str]:
    """A Flux string (or piece of one) the query rewrite does not own and that does not translate exactly."""
    return facts.flux.reported(node, RULE.slug)
