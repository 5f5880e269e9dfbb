"""The InfluxDB 2 query side of the test double: a small Flux subset answered as annotated CSV.

Only ``from |> range |> filter`` pipelines whose filters compare ``_measurement``, ``_field`` or tags
with ``==`` / ``!=`` to a string or to a query parameter (influxdb-client's ``params=``, sent as Flux
options in ``extern``), joined by ``and`` / ``or``, parenthesised, are understood; anything else raises
:class:`FluxError`, which the HTTP side answers with 400, so a test never passes on a query the
double did not understand.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from homeiq_common.testing.influxdb.lineprotocol import UInt
from homeiq_common.testing.influxdb.store import InfluxStore


class FluxError(ValueError):
    """Raised for Flux the test double does not support."""


@dataclass
class FluxTable:
    """One output table of a Flux query: its group key columns and its rows (times in ns)."""

    key: tuple[str, ...]
    rows: list[dict[str, Any]]


# --------------------------------------------------------------------------- parsing

_DURATION_UNITS = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 10**9, "m": 60 * 10**9,
                   "h": 3600 * 10**9, "d": 86400 * 10**9, "w": 7 * 86400 * 10**9}
_DURATION_RE = re.compile(r"(\d+)(ns|us|ms|s|m|h|d|w)")


def _parse_time(expr: str, now_ns: int) -> int:
    expr = expr.strip()
    if expr == "now()":
        return now_ns
    match = re.fullmatch(r"(-?)((?:\d+(?:ns|us|ms|s|m|h|d|w))+)", expr)
    if match:
        total = sum(int(n) * _DURATION_UNITS[u] for n, u in _DURATION_RE.findall(match.group(2)))
        return now_ns - total if match.group(1) else now_ns + total
    if re.fullmatch(r"-?\d+", expr):
        return int(expr) * 10**9  # Flux integers in range() are seconds since the epoch
    try:
        parsed = datetime.fromisoformat(expr.replace("Z", "+00:00"))
    except ValueError:
        raise FluxError(f"unsupported time expression {expr!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return int(parsed.timestamp()) * 10**9 + parsed.microsecond * 1000


_TOKEN_RE = re.compile(
    r"""\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<op>==|!=)|(?P<paren>[()])"""
    r"""|(?P<ref>r\s*\.\s*[A-Za-z_][A-Za-z0-9_]*|r\s*\[\s*"(?:[^"\\]|\\.)*"\s*\])|(?P<word>(?:and|or)\b)"""
    r"""|(?P<name>[A-Za-z_][A-Za-z0-9_]*))"""
)

Predicate = Callable[[str, str, dict[str, str]], bool]


def _tokenize(expr: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    expr = expr.strip()
    while pos < len(expr):
        match = _TOKEN_RE.match(expr, pos)
        if not match or match.end() == pos:
            raise FluxError(f"unsupported filter expression near {expr[pos:]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        pos = match.end()
        while pos < len(expr) and expr[pos].isspace():
            pos += 1
    return tokens


def _parse_predicate(expr: str, params: dict[str, Any]) -> Predicate:
    """Parse ``r.a == "x" and (r["b"] != name or ...)`` into a predicate(measurement, field, tags)."""
    tokens = _tokenize(expr)
    pos = 0

    def peek() -> tuple[str, str] | None:
        return tokens[pos] if pos < len(tokens) else None

    def take(kind: str) -> str:
        nonlocal pos
        token = peek()
        if token is None or token[0] != kind:
            raise FluxError(f"unsupported filter expression {expr!r}")
        pos += 1
        return token[1]

    def comparison() -> Predicate:
        if peek() == ("paren", "("):
            take("paren")
            inner = disjunction()
            if take("paren") != ")":
                raise FluxError(f"unbalanced parentheses in {expr!r}")
            return inner
        ref = take("ref")
        if "[" in ref:
            name = json.loads(ref[ref.index("[") + 1 : ref.rindex("]")].strip())
        else:
            name = ref.split(".", 1)[1].strip()
        if name.startswith("_") and name not in ("_measurement", "_field"):
            raise FluxError(f"filtering on {name} is not supported by the test double")
        op = take("op")
        if peek() is not None and peek()[0] == "name":  # type: ignore[index]
            param = take("name")
            if param not in params:
                raise FluxError(f"undefined identifier {param}")
            literal = params[param]
        else:
            literal = json.loads(take("str"))

        def value_of(measurement: str, field_name: str, tags: dict[str, str]) -> str | None:
            if name == "_measurement":
                return measurement
            if name == "_field":
                return field_name
            return tags.get(name)

        if op == "==":
            return lambda m, f, t: value_of(m, f, t) == literal
        return lambda m, f, t: value_of(m, f, t) != literal

    def conjunction() -> Predicate:
        nonlocal pos
        parts = [comparison()]
        while peek() == ("word", "and"):
            pos += 1
            parts.append(comparison())
        return lambda m, f, t: all(p(m, f, t) for p in parts)

    def disjunction() -> Predicate:
        nonlocal pos
        parts = [conjunction()]
        while peek() == ("word", "or"):
            pos += 1
            parts.append(conjunction())
        return lambda m, f, t: any(p(m, f, t) for p in parts)

    predicate = disjunction()
    if pos != len(tokens):
        raise FluxError(f"unsupported filter expression {expr!r}")
    return predicate


@dataclass
class FluxQuery:
    """A parsed ``from |> range |> filter*`` pipeline."""

    bucket: str
    start_ns: int
    stop_ns: int
    predicates: list[Predicate]


def _split_args(args: str) -> list[str]:
    parts, depth, current = [], 0, []
    for ch in args:
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        depth += ch in "(["
        depth -= ch in ")]"
        current.append(ch)
    if "".join(current).strip():
        parts.append("".join(current))
    return parts


def parse_flux(flux: str, now_ns: int | None = None, params: dict[str, Any] | None = None) -> FluxQuery:
    """Parse the supported Flux subset; raise :class:`FluxError` for anything else.

    *params* are the query's parameters by name (see :func:`query_params`).
    """
    now_ns = time.time_ns() if now_ns is None else now_ns
    lines = [ln for ln in flux.splitlines() if not ln.strip().startswith("//")]
    stages = [stage.strip() for stage in "\n".join(lines).split("|>")]
    first = re.fullmatch(r'from\s*\(\s*bucket\s*:\s*"([^"]+)"\s*\)', stages[0])
    if not first:
        raise FluxError(f"query must start with from(bucket: ...), got {stages[0]!r}")
    start_ns, stop_ns, has_range = 0, now_ns, False
    predicates: list[Predicate] = []
    for stage in stages[1:]:
        match = re.fullmatch(r"(\w+)\s*\((.*)\)", stage, re.S)
        if not match:
            raise FluxError(f"unsupported Flux stage {stage!r}")
        name, args = match.group(1), match.group(2).strip()
        if name == "range":
            bounds = dict(
                (key.strip(), value.strip()) for key, value in (part.split(":", 1) for part in _split_args(args))
            )
            if "start" not in bounds or set(bounds) - {"start", "stop"}:
                raise FluxError(f"unsupported range arguments {args!r}")
            start_ns = _parse_time(bounds["start"], now_ns)
            stop_ns = _parse_time(bounds.get("stop", "now()"), now_ns)
            has_range = True
        elif name == "filter":
            fn = re.fullmatch(r"fn\s*:\s*\(\s*r\s*\)\s*=>\s*(.+)", args, re.S)
            if not fn:
                raise FluxError(f"unsupported filter {args!r}")
            predicates.append(_parse_predicate(fn.group(1), params or {}))
        else:
            raise FluxError(
                f"Flux function {name}() is not supported by the test double (only from/range/filter)"
            )
    if not has_range:
        raise FluxError("error in building plan while starting program: cannot submit unbounded read")
    return FluxQuery(bucket=first.group(1), start_ns=start_ns, stop_ns=stop_ns, predicates=predicates)


def _literal(value: dict[str, Any]) -> Any:
    kind, raw = value.get("type"), value.get("value")
    if kind == "IntegerLiteral":
        return int(raw)
    if kind == "FloatLiteral":
        return float(raw)
    if kind == "BooleanLiteral":
        return raw in (True, "true")
    return raw


def query_params(payload: dict[str, Any]) -> dict[str, Any]:
    """The parameters of a ``/api/v2/query`` body: ``params``, or the ``option <name> = <literal>``
    statements influxdb-client 1.x sends in ``extern`` for ``params=`` (an object option is a dict)."""
    if payload.get("params"):
        return dict(payload["params"])
    out: dict[str, Any] = {}
    for stmt in (payload.get("extern") or {}).get("body") or []:
        assignment = stmt.get("assignment") or {}
        name = (assignment.get("id") or {}).get("name")
        init = assignment.get("init") or {}
        if init.get("type") == "ObjectExpression":
            props = {
                (p.get("key") or {}).get("name"): _literal(p.get("value") or {}) for p in init.get("properties") or []
            }
            if name == "params":
                out.update(props)
            else:
                out[name] = props
        else:
            out[name] = _literal(init)
    return out


def flux_tables(store: InfluxStore, query: FluxQuery) -> list[FluxTable]:
    """Evaluate *query* over *store*: one table per series (measurement, tag set, field), rows by time."""
    series: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for measurement in store.measurements(query.bucket):
        for row in store.rows(query.bucket, measurement):
            if not query.start_ns <= row["time"] < query.stop_ns:
                continue
            for field_name, value in row["fields"].items():
                if all(p(measurement, field_name, row["tags"]) for p in query.predicates):
                    key = (measurement, tuple(sorted(row["tags"].items())), field_name)
                    series.setdefault(key, []).append(
                        {"_start": query.start_ns, "_stop": query.stop_ns, "_time": row["time"],
                         "_value": value, "_field": field_name, "_measurement": measurement, **row["tags"]}
                    )
    tables = []
    for key in sorted(series):
        tag_keys = tuple(k for k, _ in key[1])
        rows = sorted(series[key], key=lambda r: r["_time"])
        tables.append(FluxTable(("_start", "_stop", "_field", "_measurement", *tag_keys), rows))
    return tables


# --------------------------------------------------------------------------- annotated CSV


def rfc3339(time_ns: int) -> str:
    """Format epoch nanoseconds the way InfluxDB does (RFC3339, UTC, trimmed nanoseconds)."""
    seconds, nanos = divmod(time_ns, 10**9)
    stamp = datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    if nanos:
        stamp += "." + f"{nanos:09d}".rstrip("0")
    return stamp + "Z"


def _csv_type(values: list[Any]) -> str:
    for v in values:
        if v is None:
            continue
        if isinstance(v, bool):
            return "boolean"
        if isinstance(v, UInt):
            return "unsignedLong"
        if isinstance(v, int):
            return "long"
        if isinstance(v, float):
            return "double"
        return "string"
    return "string"


def _csv_cell(v: Any, typ: str) -> str:
    if v is None:
        return ""
    if typ.startswith("dateTime"):
        return rfc3339(v)
    if typ == "boolean":
        return "true" if v else "false"
    if typ == "double":
        return repr(float(v))
    text = str(v)
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


_TIME_COLUMNS = ("_start", "_stop", "_time")
_LEADING = ("_start", "_stop", "_time", "_value", "_field", "_measurement")


def to_annotated_csv(tables: list[FluxTable]) -> str:
    """Tables as the annotated CSV of InfluxDB 2's ``/api/v2/query`` (one block per table)."""
    blocks = []
    for i, t in enumerate(tables):
        cols: list[str] = []
        for r in t.rows:
            cols.extend(c for c in r if c not in cols)
        cols = [c for c in _LEADING if c in cols] + sorted(c for c in cols if c not in _LEADING)
        types = [
            "dateTime:RFC3339" if c in _TIME_COLUMNS else _csv_type([r.get(c) for r in t.rows]) for c in cols
        ]
        lines = [
            "#datatype,string,long," + ",".join(types),
            "#group,false,false," + ",".join("true" if c in t.key else "false" for c in cols),
            "#default,_result,," + ",".join("" for _ in cols),
            ",result,table," + ",".join(cols),
        ]
        for r in t.rows:
            cells = ",".join(_csv_cell(r.get(c), ty) for c, ty in zip(cols, types, strict=True))
            lines.append(f",,{i},{cells}")
        blocks.append("\r\n".join(lines) + "\r\n")
    return "\r\n".join(blocks) + "\r\n"


def run_flux(store: InfluxStore, query: FluxQuery) -> str:
    """Evaluate *query* against *store* and render it as annotated CSV."""
    return to_annotated_csv(flux_tables(store, query))
