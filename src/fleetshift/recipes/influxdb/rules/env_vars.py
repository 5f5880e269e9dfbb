"""from_env() reads INFLUX_HOST/INFLUX_TOKEN/INFLUX_DATABASE, not INFLUXDB_V2_*

rename the variables in every deployment file and add INFLUX_DATABASE
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from fleetshift.recipes.influxdb.facts import V2_ENV_PREFIX, Facts, named
from fleetshift.recipes.influxdb.rules import V3_README, noted
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, link=V3_README, order=6)
NODES = (ast.Call,)  # the node types its check looks at


def check(node: ast.AST, facts: Facts) -> Iterator[str]:
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
        return
    f = node.func
    if (
        facts.v2
        and f.attr == "from_env_properties"
        and named(facts.imports, f.value, "influxdb_client", "InfluxDBClient")
    ):
        yield ""
    if facts.v3 and facts.v2_env and f.attr == "from_env":
        if named(facts.imports, f.value, "influxdb_client_3", "InfluxDBClient3"):
            yield f"from_env() reads INFLUX_HOST/INFLUX_TOKEN/INFLUX_DATABASE; the module still names {V2_ENV_PREFIX}*"


# `from_env_properties()` became `from_env()`: the variables a human renames.
note = noted(
    RULE,
    "from_env() reads other variables: rename INFLUXDB_V2_URL -> INFLUX_HOST (scheme://host:port), "
    "INFLUXDB_V2_TOKEN -> INFLUX_TOKEN, INFLUXDB_V2_ORG -> INFLUX_ORG, INFLUXDB_V2_TIMEOUT -> "
    "INFLUX_WRITE_TIMEOUT and INFLUX_QUERY_TIMEOUT, and add INFLUX_DATABASE (the bucket) in every "
    "deployment file (.env, compose, k8s); INFLUX_HOST, INFLUX_TOKEN and INFLUX_DATABASE are required "
    "(no defaults); TLS/pool/tag variables have no equivalent: pass them as from_env(**kwargs)",
)
