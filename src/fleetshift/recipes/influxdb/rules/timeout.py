"""timeout= is not accepted by InfluxDBClient3

timeout=T -> write_timeout=T, query_timeout=T (milliseconds)
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.recipes._ast import keyword
from fleetshift.recipes.influxdb.facts import Facts
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    import libcst as cst

RULE = rule(__name__, __doc__, AUTO, since="0.16.0", order=2)
NODES = (ast.Call,)  # the node types its check looks at


def check(node: ast.AST, facts: Facts) -> Iterator[str]:
    if facts.v2_call(node, "InfluxDBClient") and (keyword(node, "timeout") or len(node.args) >= 4):
        yield ""


def arguments(value: cst.BaseExpression) -> list[tuple[str | None, cst.BaseExpression]]:
    """The InfluxDBClient3 arguments for `timeout=value` (the constructor rewrite places them)."""
    return [("write_timeout", value), ("query_timeout", value)]
