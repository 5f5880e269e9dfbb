"""a query wrapper whose result readers cannot be rewritten

the FluxTables or FluxRecords leave the wrapper, or are read for more than their records: call
`client.query(sql)` and read the rows of the Arrow table (`.to_pylist()`) by hand
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from fleetshift.recipes.influxdb.facts import Facts
from fleetshift.recipes.influxdb.rules import SQL_DOCS
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, link=SQL_DOCS, order=34)
NODES = (ast.Call,)  # the node types its check looks at


def check(node: ast.AST, facts: Facts) -> Iterator[str]:
    """The query call of a wrapper whose readers cannot be rewritten."""
    found = facts.flux.wrappers.get(id(node))
    if found is not None and found[1]:
        yield f"query wrapper {found[0].name}(): {found[1]}"
