"""InfluxDBClient.from_config_file() has no equivalent

read the config with configparser and build InfluxDBClient3(host=, token=, org=, database=)
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

RULE = rule(__name__, __doc__, HUMAN, link=V3_README, order=7)
NODES = (ast.Call,)  # the node types its check looks at
STAGE = 0


def check(node: ast.AST, facts: Facts) -> Iterator[str]:
    if facts.v2 and isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr == "from_config_file" and named(
            facts.imports, node.func.value, "influxdb_client", "InfluxDBClient"
        ):
            yield ""


def plan(p: Planning) -> None:
    """A Finding, and the call is kept from the constructor rewrite."""
    for call in p.facts.analysis.calls:
        if p.is_v2(call.func, "from_config_file"):
            p.note(
                "from-config-file",
                call,
                "`InfluxDBClient.from_config_file()` has no influxdb3-python equivalent: read the file with "
                "configparser and call `InfluxDBClient3(host=cfg['url'], token=cfg['token'], org=cfg.get('org'), "
                "database=<bucket>)`; the config has no database, add one",
            )
            p.plan.locked.add(id(call))
