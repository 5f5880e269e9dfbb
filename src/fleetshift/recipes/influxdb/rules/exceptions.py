"""ApiException / influxdb_client InfluxDBError -> influxdb_client_3.InfluxDBError

write errors subclass influxdb_client_3.InfluxDBError; query errors are InfluxDB3ClientQueryError (catch
InfluxDB3ClientError for both)
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.recipes.influxdb.facts import Facts, named
from fleetshift.recipes.influxdb.names import V3
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    from fleetshift.recipes.influxdb.plan import Planning

RULE = rule(__name__, __doc__, AUTO, order=25)
NODES = (ast.Name,)  # the node types its check looks at
STAGE = 4


def check(node: ast.AST, facts: Facts) -> Iterator[str]:
    if (
        facts.v2
        and isinstance(node, ast.Name)
        and named(facts.imports, node, "influxdb_client", "ApiException")
    ):
        if node.lineno not in facts.guards:
            yield ""


def plan(p: Planning) -> None:
    """`ApiException` -> `InfluxDBError` where it cannot guard a query (see `facts.query_guards`)."""
    import libcst as cst

    from fleetshift.recipes.influxdb.plan import v2_references

    for node, name in v2_references(p):
        if name != "ApiException" or p.line(node) in p.facts.guards:
            continue
        if isinstance(node, cst.Name):
            p.set(node, lambda x: x.with_changes(value="InfluxDBError"))
        else:
            p.set(node, lambda x: cst.Attribute(value=cst.Name(V3), attr=cst.Name("InfluxDBError")))
