"""a query call the recipe could not rewrite

call client.query(sql, database=...) on the InfluxDBClient3
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.recipes.influxdb.facts import Facts, v3_api_calls
from fleetshift.recipes.influxdb.rules import SQL_DOCS
from fleetshift.recipes.influxdb.rules.query import OTHER_RULE, unrewritten
from fleetshift.recipes.rule import HUMAN, rule

if TYPE_CHECKING:
    from fleetshift.recipes.influxdb.plan import Planning

RULE = rule(__name__, __doc__, HUMAN, link=SQL_DOCS, order=17)
NODES = (ast.Call,)  # the node types its check looks at
STAGE = 2


def check(node: ast.AST, facts: Facts) -> Iterator[str]:
    yield from v3_api_calls(node, facts, "query_api")
    if facts.v2 and isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr == "query_api":
            why = unrewritten(node, facts)
            if why and not why.startswith(OTHER_RULE):
                yield why


def plan(p: Planning) -> None:
    p.note_leftover_apis(RULE.slug, "query_api")
