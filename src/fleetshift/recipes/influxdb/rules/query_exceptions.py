"""except ApiException around a query never catches influxdb3-python query errors

query errors are InfluxDB3ClientQueryError (no .status, not an InfluxDBError): catch it, or
InfluxDB3ClientError for reads and writes, and check what the handler reads
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.recipes.influxdb.facts import Facts, connection_error, connection_guards, named
from fleetshift.recipes.rule import HUMAN, rule

if TYPE_CHECKING:
    from fleetshift.recipes.influxdb.plan import Planning

RULE = rule(__name__, __doc__, HUMAN, order=26)
NODES = (ast.Name, ast.ExceptHandler)  # the node types its check looks at
STAGE = 4


CONNECTION = (
    "influxdb3-python raises `InfluxDB3ClientQueryError` (from influxdb_client_3.exceptions; an Arrow Flight "
    "error inside) for every failed query, an unreachable server included, so `except {name}` around a query "
    "never matches any more: catch `InfluxDB3ClientQueryError` (or `InfluxDB3ClientError` for queries and "
    "writes) there"
)


def check(node: ast.AST, facts: Facts) -> Iterator[str]:
    if (
        facts.v2
        and isinstance(node, ast.Name)
        and named(facts.imports, node, "influxdb_client", "ApiException")
    ):
        if node.lineno in facts.guards:
            yield f"except ApiException: {facts.guards[node.lineno]}"
    if isinstance(node, ast.ExceptHandler) and node.type is not None:
        types = node.type.elts if isinstance(node.type, ast.Tuple) else [node.type]
        for t in types:
            name = facts.connection_guards.get(t.lineno)
            if name is not None and connection_error(facts.imports, t) == name:
                yield CONNECTION.format(name=name)


def plan(p: Planning) -> None:
    """A connection error caught around a query, and an `ApiException` that may guard a query (it stays as it
    is): a Finding once per line."""
    from fleetshift.recipes.influxdb.plan import v2_references

    for line, name in connection_guards(p.facts.tree, p.facts.imports).items():
        p.note("query-exceptions", line, CONNECTION.format(name=name))
    guards = p.facts.guards
    if not guards:
        return  # no `ApiException` handler guards a query here
    noted: set[int] = set()
    for node, name in v2_references(p):
        if name != "ApiException":
            continue  # (the line is asked only of these: it costs the code generation of its statement)
        line = p.line(node)
        if line not in guards or line in noted:
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
