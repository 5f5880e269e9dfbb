"""influxdb3-python has no async client

use InfluxDBClient3 with await client.query_async(...) and asyncio.to_thread(client.write, ...)
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.recipes.influxdb.facts import Facts, named
from fleetshift.recipes.influxdb.rules import V3_README
from fleetshift.recipes.rule import HUMAN, rule

if TYPE_CHECKING:
    from fleetshift.recipes.influxdb.plan import Planning

RULE = rule(__name__, __doc__, HUMAN, link=V3_README, order=24)
STAGE = 0


def check(node: ast.AST, facts: Facts) -> Iterator[str]:
    if (
        facts.v2
        and isinstance(node, ast.Call)
        and named(facts.imports, node.func, "influxdb_client", "InfluxDBClientAsync")
    ):
        yield ""


def plan(p: Planning) -> None:
    for call in p.facts.analysis.calls:
        if p.is_v2(call.func, "InfluxDBClientAsync"):
            p.note(
                "async-client",
                call,
                "influxdb3-python has no async client: use `with InfluxDBClient3(...)` and "
                "`await client.query_async(sql, mode=...)` for queries, `await asyncio.to_thread(client.write, "
                "record=..., database=...)` for writes",
            )
