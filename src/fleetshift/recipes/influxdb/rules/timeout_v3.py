"""InfluxDBClient3(timeout=) raises TypeError on 0.17-0.20 and is ignored on 0.21

use write_timeout= and query_timeout= (milliseconds)
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from fleetshift.recipes._ast import keyword
from fleetshift.recipes.influxdb.facts import Facts
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="0.16.0", order=30)
NODES = (ast.Call,)  # the node types its check looks at


def check(node: ast.AST, facts: Facts) -> Iterator[str]:
    if facts.v3_call(node, "InfluxDBClient3") and keyword(node, "timeout"):
        yield ""
