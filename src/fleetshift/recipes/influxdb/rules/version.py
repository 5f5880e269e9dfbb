"""client.version() -> client.get_server_version()

renamed
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.recipes.influxdb.facts import Facts
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    from fleetshift.recipes.influxdb.plan import Planning

RULE = rule(__name__, __doc__, AUTO, since="0.15.0", order=23)
NODES = (ast.Call,)  # the node types its check looks at
STAGE = 0


def check(node: ast.AST, facts: Facts) -> Iterator[str]:
    """`client.version()` on an influxdb-client InfluxDBClient (the run renames it)."""
    if facts.v2 and isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and not node.args:
        if node.func.attr == "version" and facts.receivers.kind(node.func.value) == "client":
            yield ""


def plan(p: Planning) -> None:
    import libcst as cst

    from fleetshift.recipes.influxdb.rules.no_equivalent import same_calls

    for call in p.facts.analysis.calls:
        f = call.func
        if isinstance(f, cst.Attribute) and f.attr.value == "version" and not call.args:
            if any(
                not c.args and p.facts.receivers.kind(c.func.value) == "client" for c in same_calls(p, call)
            ):  # type: ignore[attr-defined]
                p.set(f.attr, lambda n: n.with_changes(value="get_server_version"))
