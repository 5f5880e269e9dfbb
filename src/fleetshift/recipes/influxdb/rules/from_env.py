"""InfluxDBClient.from_env_properties() -> InfluxDBClient3.from_env()

renamed; the environment variables change too (see env-vars)
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.recipes.influxdb.facts import Facts, named
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    from fleetshift.recipes.influxdb.plan import Planning

RULE = rule(__name__, __doc__, AUTO, since="0.13.0", order=5)
NODES = (ast.Call,)  # the node types its check looks at
STAGE = 3


def check(node: ast.AST, facts: Facts) -> Iterator[str]:
    if facts.v2 and isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        f = node.func
        if f.attr == "from_env_properties" and named(
            facts.imports, f.value, "influxdb_client", "InfluxDBClient"
        ):
            yield ""


def plan(p: Planning) -> None:
    import libcst as cst

    from fleetshift.recipes.influxdb.rules import env_vars
    from fleetshift.recipes.influxdb.rules.client import rename_client

    for call in p.facts.analysis.calls:
        if id(call) in p.plan.locked:
            continue
        f = call.func
        if (
            isinstance(f, cst.Attribute)
            and f.attr.value == "from_env_properties"
            and p.is_v2(f.value, "InfluxDBClient")
        ):
            p.set(f.attr, lambda n: n.with_changes(value="from_env"))
            p.set(f.value, rename_client)
            env_vars.note(p, call)
