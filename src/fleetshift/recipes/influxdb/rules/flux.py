"""Flux is not supported by InfluxDB 3

translate the query to SQL (the Finding carries a proposed SQL where there is one)
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from fleetshift.recipes.influxdb.facts import Facts
from fleetshift.recipes.influxdb.rules import FLUX_FUTURE
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, link=FLUX_FUTURE, order=18)
NODES = (ast.Constant,)  # the node types its check looks at


def check(node: ast.AST, facts: Facts) -> Iterator[str]:
    """A Flux query text (`from(bucket: ...) |> ...`) that does not translate to SQL exactly."""
    if not (facts.v2 and isinstance(node, ast.Constant) and isinstance(node.value, str)):
        return
    text = node.value
    if "from(" in text and "bucket" in text and "|>" in text and not facts.flux.holds(node):
        # (a Flux string the Flux rules judge by its own syntax is theirs: flux-string, flux-manual, ...)
        from fleetshift.recipes.influxdb import flux

        tr, why = flux.try_translate(text)
        if tr is None or not tr.exact:
            yield f"Flux query not translatable: {why or (tr.reason if tr is not None else '')}"
