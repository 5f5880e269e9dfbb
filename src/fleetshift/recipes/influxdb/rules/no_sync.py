"""WriteOptions(no_sync=True) raises ValueError on 0.20+ unless the v3 write API is used

add write_use_v2_api=False (0.20+) or drop no_sync
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from fleetshift.recipes._ast import keyword
from fleetshift.recipes.influxdb.facts import Facts, is_const
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="0.20.0", order=29)
NODES = (ast.Call,)  # the node types its check looks at


def check(node: ast.AST, facts: Facts) -> Iterator[str]:
    if (
        facts.v3_call(node, "WriteOptions")
        and is_const(keyword(node, "no_sync"), True)
        and not is_const(keyword(node, "use_v2_api"), False)
    ):
        yield ""
