"""InfluxDBClient3 has no profilers/auth_basic/username/password

remove them; authenticate with a token
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

RULE = rule(__name__, __doc__, HUMAN, since="0.20.0", order=27)
NODES = (ast.Call,)  # the node types its check looks at
ARGUMENTS = ("profilers", "auth_basic", "username", "password")


def check(node: ast.AST, facts: Facts) -> Iterator[str]:
    if facts.v2_call(node, "InfluxDBClient"):
        for name in ARGUMENTS:
            if keyword(node, name):
                yield f"{name}= has no InfluxDBClient3 equivalent"


def argument(p: Planning, call: cst.Call, name: str) -> None:
    """A Finding when the constructor rewrite meets one of ARGUMENTS (kept, for a human to remove)."""
    if name in ARGUMENTS:
        p.note(
            "unsupported-args",
            call,
            f"InfluxDBClient3 has no {name}= (profilers are Flux-only; "
            "basic auth was removed in 0.20): remove it and use a token",
        )
