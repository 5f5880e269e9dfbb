"""default_tags/point_settings behave differently across 0.17-0.21

pin influxdb3-python>=0.21,<0.22 and pass point_settings=PointSettings(**tags), or tag each record
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.recipes._ast import keyword
from fleetshift.recipes.influxdb.facts import Facts
from fleetshift.recipes.rule import HUMAN, rule

if TYPE_CHECKING:
    import libcst as cst

    from fleetshift.recipes.influxdb.plan import Planning

RULE = rule(__name__, __doc__, HUMAN, since="0.21.0", order=15)
NODES = (ast.Call,)  # the node types its check looks at


def check(node: ast.AST, facts: Facts) -> Iterator[str]:
    if not isinstance(node, ast.Call):
        return
    if facts.v2_call(node, "InfluxDBClient"):
        if keyword(node, "default_tags") or len(node.args) >= 7:
            yield ""
    if facts.v3_call(node, "InfluxDBClient3"):
        if keyword(node, "default_tags"):
            yield ""


def argument(p: Planning, call: cst.Call, name: str) -> None:
    """The constructor rewrite keeps `default_tags=`, with a Finding."""
    if name == "default_tags":
        p.note(
            "default-tags",
            call,
            "default_tags= works on influxdb3-python 0.17-0.20 but is silently "
            "ignored by 0.21; pin >=0.21,<0.22 and pass point_settings=PointSettings(**tags), or add "
            "the tags to each record",
        )


def note_point_settings(p: Planning, call: cst.Call) -> None:
    """`write_api(point_settings=...)` is not moved: a Finding."""
    p.note(
        "default-tags",
        call,
        "write_api(point_settings=...): influxdb3-python 0.21 takes `InfluxDBClient3(point_settings="
        "PointSettings(...))`, 0.17-0.20 take `write_client_options(point_settings=...)` (0.21 raises "
        "TypeError on that); pin >=0.21,<0.22 and move it, or add the tags to each record",
    )
