""".flux query files loaded at run time -> a sibling .sql file, and the loader reads it

every `.flux` file a path in the code names (`Path("queries/x.flux").read_text()`, `open(...)`,
`f"{name}.flux"`) is translated in Flux's long shape; the SQL is written beside it (the .flux file stays
for reference) and the path in the code names the .sql; a file that does not translate gets a Finding with
the proposed SQL, so the loader fails loudly on its missing .sql instead of sending Flux to InfluxDB 3
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from fleetshift.recipes.influxdb.facts import Facts
from fleetshift.recipes.influxdb.rules import SQL_DOCS
from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, link=SQL_DOCS, order=32)
NODES = (ast.Constant, ast.JoinedStr)  # the node types its check looks at


def check(node: ast.AST, facts: Facts) -> Iterator[str]:
    """A path of a `.flux` file (or a pattern of them) in the module."""
    site = facts.flux.paths.get(id(node))
    if site is not None:
        yield f"loads Flux from {site.pattern}: written as .sql beside it"
