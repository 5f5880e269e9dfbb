"""gzip_threshold= crashes every write on influxdb3-python <0.21

pin influxdb3-python>=0.21,<0.22 or use enable_gzip=True without a threshold
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

RULE = rule(__name__, __doc__, HUMAN, since="0.21.0", fixed_in="0.21.0", order=28)
NODES = (ast.Call,)  # the node types its check looks at


def check(node: ast.AST, facts: Facts) -> Iterator[str]:
    if facts.v3_call(node, "InfluxDBClient3") and keyword(node, "gzip_threshold"):
        yield ""


def argument(p: Planning, call: cst.Call, name: str) -> None:
    if name == "gzip_threshold":
        p.note("gzip-threshold", call, "gzip_threshold= crashes every write on influxdb3-python <0.21")
