"""InfluxDBClient(**mapping) passes v2 keys to InfluxDBClient3

the mapping's keys must be influxdb3-python's: url -> host (scheme://host:port), bucket -> database
(required on 0.21), timeout -> write_timeout/query_timeout; username/password/auth_basic are gone and
org is accepted but unused by InfluxDB 3
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.recipes.influxdb.facts import Facts, named
from fleetshift.recipes.influxdb.rules import V3_README
from fleetshift.recipes.rule import HUMAN, rule

if TYPE_CHECKING:
    import libcst as cst

    from fleetshift.recipes.influxdb.plan import Planning

RULE = rule(__name__, __doc__, HUMAN, link=V3_README, order=39)


def check(node: ast.AST, facts: Facts) -> Iterator[str]:
    if not isinstance(node, ast.Call):
        return
    v2 = facts.v2 and named(facts.imports, node.func, "influxdb_client", "InfluxDBClient")
    if v2:
        for k in node.keywords:
            if k.arg is None:
                yield f"InfluxDBClient(**{ast.unparse(k.value)}): {RULE.fix}"
        for a in node.args:
            if isinstance(a, ast.Starred):
                yield f"InfluxDBClient(*{ast.unparse(a.value)}): pass host=, token=, database= by keyword"


def note(p: Planning, call: cst.Call, star: str, value: cst.BaseExpression) -> None:
    """The constructor rewrite keeps a `*`/`**` argument as it is: what its keys or items must become."""
    from fleetshift.recipes.influxdb.edits import code_of

    if star == "**":
        p.note("client-mapping", call, f"InfluxDBClient3(**{code_of(value)}): {RULE.fix}")
    else:
        p.note(
            "client-mapping",
            call,
            f"InfluxDBClient3(*{code_of(value)}): pass host=, token=, database= by keyword",
        )
