"""SQL text for the Flux translation: identifiers, literals, intervals and per-series row limits."""

from __future__ import annotations

import re

from fleetshift.recipes.influxdb.flux.lexer import UNITS
from fleetshift.recipes.influxdb.flux.syntax import Dur

_RESERVED = {
    "all", "and", "as", "asc", "by", "case", "desc", "distinct", "else", "end", "from", "group", "having",
    "in", "is", "join", "limit", "not", "null", "offset", "on", "or", "order", "select", "table", "then",
    "union", "user", "when", "where", "with", "default", "interval", "values", "window", "over", "range",
}  # fmt: skip


def ident(name: str) -> str:
    """A SQL identifier, quoted unless it is a plain lower-case word."""
    if name == "time" or (re.fullmatch(r"[a-z_][a-z0-9_]*", name) and name not in _RESERVED):
        return name
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def interval(d: Dur) -> str:
    words = []
    for mag, unit in d.parts:
        name = UNITS[unit]
        if mag == "1":
            name = name[:-1]
        words.append(f"{mag} {name}")
    return "INTERVAL " + literal(" ".join(words))


def order_by(column: str, desc: bool) -> str:
    """One ORDER BY item."""
    return f"{column} DESC" if desc else column


def _limit(n: int, offset: int) -> str:
    return f" LIMIT {n}" + (f" OFFSET {offset}" if offset else "")


def _numbered(source: str, group: tuple[str, ...], order: str, n: int, offset: int) -> tuple[str, str, str]:
    """Rows of `source` numbered per series (`_rn`): the partition list, the numbered query, the row filter."""
    part = ", ".join(map(ident, group))
    inner = f"SELECT *, row_number() OVER (PARTITION BY {part} ORDER BY {order}) AS _rn FROM {source}"
    cond = f"_rn > {offset} AND _rn <= {offset + n}" if offset else f"_rn <= {n}"
    return part, inner, cond


def ranked(
    projection: str, table: str, where: str, group: tuple[str, ...], order: str, n: int, offset: int
) -> str:
    """The first `n` rows (after `offset`) of each series of `table` in `order`; globally without `group`."""
    if not group:
        return f"SELECT {projection} FROM {table} WHERE {where} ORDER BY {order}" + _limit(n, offset)
    part, inner, cond = _numbered(f"{table} WHERE {where}", group, order, n, offset)
    outer = projection if projection != "*" else "* EXCLUDE (_rn)"
    if outer.startswith("* EXCLUDE ("):
        outer = outer.replace("* EXCLUDE (", "* EXCLUDE (_rn, ", 1) if "_rn" not in outer else outer
    return f"SELECT {outer} FROM ({inner}) WHERE {cond} ORDER BY {part}, {order}"


def limited(sql: str, group: tuple[str, ...] | None, n: int, offset: int, order: str) -> str:
    """`ranked` over the rows of a whole query (an aggregate)."""
    if not group:
        return sql + _limit(n, offset)
    part, inner, cond = _numbered(f"({sql})", group, order, n, offset)
    return f"SELECT * EXCLUDE (_rn) FROM ({inner}) WHERE {cond} ORDER BY {part}, {order}"
