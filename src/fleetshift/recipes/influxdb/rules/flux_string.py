"""Flux built anywhere in a service (a string or f-string that starts a pipeline) -> SQL

found by its own syntax (`from(bucket:`, `buckets()`, `|>`), not by the call it is passed to; translated in
Flux's long shape (one row per field value: _time in UTC, _measurement, _field, _value, the tags read) so
the code reading `_field`/`_value`/`_time` keeps working; f-string placeholders stay placeholders
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from fleetshift.recipes.influxdb.facts import Facts
from fleetshift.recipes.influxdb.rules import SQL_DOCS
from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, link=SQL_DOCS, order=31)
NODES = (ast.Constant, ast.JoinedStr, ast.BinOp)  # the node types its check looks at


def check(node: ast.AST, facts: Facts) -> Iterator[str]:
    """A Flux string the query rewrite does not own that translates exactly (the shape its readers read)."""
    return facts.flux.reported(node, RULE.slug)
