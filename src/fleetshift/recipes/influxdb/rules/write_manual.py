"""a write the recipe could not rewrite

call client.write(record=..., database=...) on the InfluxDBClient3
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.recipes.influxdb.facts import Facts, v3_api_calls
from fleetshift.recipes.influxdb.rules import V3_README
from fleetshift.recipes.rule import HUMAN, rule

if TYPE_CHECKING:
    from fleetshift.recipes.influxdb.plan import Planning

RULE = rule(__name__, __doc__, HUMAN, link=V3_README, order=9)
NODES = (ast.Call,)  # the node types its check looks at
STAGE = 2


def check(node: ast.AST, facts: Facts) -> Iterator[str]:
    yield from v3_api_calls(node, facts, "write_api")


def plan(p: Planning) -> None:
    p.note_leftover_apis(RULE.slug, "write_api")
