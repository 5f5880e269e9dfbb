"""A small Flux parser and a Flux -> InfluxDB 3 SQL translator for the mechanical query shapes.

Only pipelines made of `from`, `range`, `filter`, `pivot`/`schema.fieldsAsCols`, `group`,
`aggregateWindow`, plain aggregates, `first`/`last`, `sort`, `limit`, `keep`/`drop` and `yield` are
understood. A translation is `exact` when the SQL returns the rows the Flux meant (per series in time
order); otherwise `sql` is None and `proposed` carries the best SQL we can offer with the reason.

Text may carry f-string placeholders as `HOLE_OPEN<n>HOLE_CLOSE` sentinels (see `hole`); they survive
into the SQL and into identifiers such as the database, so the caller can rebuild an f-string.
"""

from fleetshift.recipes.influxdb.flux.lexer import HOLE_CLOSE, HOLE_OPEN, HOLE_RE, FluxError, hole, tokenize
from fleetshift.recipes.influxdb.flux.sql import ident, interval, literal
from fleetshift.recipes.influxdb.flux.syntax import (
    Arr,
    BinOp,
    Bool,
    Call,
    Dur,
    Func,
    Ident,
    Member,
    Num,
    Obj,
    Query,
    Regex,
    Str,
    Time,
    Unary,
    parse,
)
from fleetshift.recipes.influxdb.flux.translate import Translation, translate, try_translate

__all__ = [
    "HOLE_CLOSE", "HOLE_OPEN", "HOLE_RE", "Arr", "BinOp", "Bool", "Call", "Dur", "FluxError", "Func", "Ident",
    "Member", "Num", "Obj", "Query", "Regex", "Str", "Time", "Translation", "Unary", "hole", "ident", "interval",
    "literal", "parse", "tokenize", "translate", "try_translate",
]  # fmt: skip
