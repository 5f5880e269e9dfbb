"""the service's own query wrapper (`def exec_flux(self, query): ... query_api().query(query)`) -> client.query()

its query call becomes `client.query(query)` and its FluxTable/FluxRecord readers read the rows of the Arrow
table (`record.values` -> the row, `get_value()` -> `row["_value"]`); the Flux its callers build is
translated in Flux's long shape, so what the wrapper returns keeps its keys
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from fleetshift.recipes.influxdb.facts import Facts
from fleetshift.recipes.influxdb.rules import SQL_DOCS
from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, link=SQL_DOCS, order=33)
NODES = (ast.Call,)  # the node types its check looks at


def check(node: ast.AST, facts: Facts) -> Iterator[str]:
    """The query call of a wrapper the run rewrites."""
    found = facts.flux.wrappers.get(id(node))
    if found is not None and not found[1]:
        w = found[0]
        yield f"query wrapper {w.name}({w.param}) -> client.query({w.param})"
