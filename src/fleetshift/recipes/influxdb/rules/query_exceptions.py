"""except ApiException around a query never catches influxdb3-python query errors

query errors are InfluxDB3ClientQueryError (no .status, not an InfluxDBError): catch it, or
InfluxDB3ClientError for reads and writes, and check what the handler reads
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.recipes.influxdb.facts import Facts, named
from fleetshift.recipes.rule import HUMAN, rule

if TYPE_CHECKING:
    from fleetshift.recipes.influxdb.plan import Planning

RULE = rule(__name__, __doc__, HUMAN, order=26)
STAGE = 4


def check(node: ast.AST, facts: Facts) -> Iterator[str]:
    if (
        facts.v2
        and isinstance(node, ast.Name)
        and named(facts.imports, node, "influxdb_client", "ApiException")
    ):
        if node.lineno in facts.guards:
            yield f"except ApiException: {facts.guards[node.lineno]}"


def plan(p: Planning) -> None:
    """An `ApiException` that may guard a query stays as it is, with a Finding once per line."""
    from fleetshift.recipes.influxdb.plan import v2_references

    noted: set[int] = set()
    for node, name in v2_references(p):
        line = p.line(node)
        if name != "ApiException" or line not in p.facts.guards or line in noted:
            continue
        noted.add(line)
        p.note(
            "query-exceptions",
            line,
            f"`ApiException` left as it is ({p.facts.guards[line]}): influxdb3-python raises "
            "`InfluxDB3ClientQueryError` for queries (not an InfluxDBError, no .status) and `InfluxDBError` "
            "for writes; catch `InfluxDB3ClientQueryError` from influxdb_client_3.exceptions (or "
            "`InfluxDB3ClientError` for both), check what the handler reads, then drop the influxdb_client "
            "import",
        )
