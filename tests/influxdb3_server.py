"""A wire-level test double of an InfluxDB 3 server (and of the InfluxDB 2 Flux query endpoint).

No InfluxDB 3 (or 2.x) server can run on these machines (no registry ships a server binary, there is no
container runtime), so fleetshift's recipe tests run against a double that speaks the exact wire
protocol the clients use (reference influxdb.md section 7.2). The double itself is the demo fleet's own
test kit, `homeiq_common.testing.influxdb` (examples/homeiq/libs/homeiq-common/src), imported from there
so there is one implementation of the line-protocol parser, the store, the HTTP receiver
(`/api/v2/write`, `/api/v3/write_lp`, `/ping`, `/api/v2/query`), the Arrow Flight `DoGet` server running
influxdb3-python's SQL tickets with DataFusion, and the one-port front that sends `PRI * HTTP/2.0`
connections to Flight and the rest to HTTP.

What is fleetshift-specific lives here: `evaluate`, an evaluator of the Flux subset fleetshift
translates (from/range/filter/pivot/group/aggregateWindow/aggregates/first/last/sort/limit/keep/drop/
yield), built on fleetshift's Flux parser, so influxdb-client 1.x programs run unchanged against the
double and the Flux -> SQL tests get the rows the Flux meant, computed independently of the SQL.

What this proves: client plumbing, request shapes, SQL syntax and semantics as DataFusion runs them.
What it cannot prove: InfluxDB-only SQL functions, server error bodies, dedup/partial-write rules,
retention, auth scopes. Run it standalone with `python tests/influxdb3_server.py [--token T]`.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

_DEMO_LIB = Path(__file__).resolve().parents[1] / "examples" / "homeiq" / "libs" / "homeiq-common" / "src"
if str(_DEMO_LIB) not in sys.path:
    sys.path.insert(0, str(_DEMO_LIB))

from homeiq_common.testing.influxdb import (  # noqa: E402
    FluxTable,
    InfluxDBTestServer,
    InfluxStore,
    UInt,
    query_params,
    to_annotated_csv,
)

__all__ = [
    "FluxEvalError",
    "FluxTable",
    "InfluxDB3TestServer",
    "InfluxStore",
    "UInt",
    "evaluate",
    "to_annotated_csv",
]

VERSION = "3.0.0-test-double"


class InfluxDB3TestServer(InfluxDBTestServer):
    """HTTP writes + Flux (v2) queries + Flight SQL (v3) queries on one loopback port.

    `url` is what both clients take (`url=` for influxdb-client, `host=` for influxdb3-python).
    `requests` and `tickets` record what arrived; `write(database, lp)` seeds data directly.
    """

    def __init__(self, token: str | None = "test-token", port: int = 0) -> None:
        super().__init__(token=token, port=port, version=VERSION, flight=True)

    def write(self, database: str, line_protocol: str, precision: str = "ns") -> None:
        """Store line protocol directly (seed data)."""
        self.write_line_protocol(database, line_protocol, precision)

    def flux_tables(self, payload: dict[str, Any]) -> list[FluxTable]:
        """Answer influxdb-client 1.x's Flux with fleetshift's evaluator (params from `params` or `extern`)."""
        return evaluate(payload.get("query", ""), self.store, query_params(payload))


# ---- Flux (InfluxDB 2 query endpoint) -------------------------------------------------------------------
#
# An independent evaluator of the Flux subset over the stored points, in plain Python: it serves
# influxdb-client 1.x programs and gives the expected rows of the Flux translation tests. Only the
# parser is shared with fleetshift; the semantics below follow the Flux documentation.


class FluxEvalError(ValueError):
    """The Flux query is outside what this test double evaluates."""


def _flux_ast():
    from fleetshift.recipes.influxdb import flux

    return flux


def _dur_ns(d: object) -> int:
    flux = _flux_ast()
    units = {
        "ns": 1,
        "us": 1_000,
        "µs": 1_000,
        "ms": 1_000_000,
        "s": 10**9,
        "m": 60 * 10**9,
        "h": 3600 * 10**9,
        "d": 86400 * 10**9,
        "w": 7 * 86400 * 10**9,
    }
    if not isinstance(d, flux.Dur) or any(u not in units for _m, u in d.parts):
        raise FluxEvalError(f"unsupported duration {d!r}")
    total = sum(int(m) * units[u] for m, u in d.parts)
    return -total if d.negative else total


def _time_ns(node: object, now: int) -> int:
    flux = _flux_ast()
    if isinstance(node, flux.Dur):
        return now + _dur_ns(node)
    if isinstance(node, flux.Time):
        from datetime import datetime

        text = node.text
        frac = 0
        m = re.match(r"(.*T\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$", text)
        if m:
            text = m.group(1) + m.group(3).replace("Z", "+00:00")
            frac = int((m.group(2) or ".0")[1:].ljust(9, "0")[:9])
        dt = datetime.fromisoformat(text if "T" in text else text + "T00:00:00+00:00")
        return int(dt.timestamp()) * 10**9 + frac
    if isinstance(node, (flux.Call, flux.Ident)) and getattr(node, "name", "") == "now":
        return now
    raise FluxEvalError(f"unsupported time {node!r}")


def _value(node: object, row: dict, var: str, params: dict) -> object:
    flux = _flux_ast()
    if isinstance(node, flux.Str):
        return node.value
    if isinstance(node, flux.Num):
        return float(node.text) if "." in node.text else int(node.text)
    if isinstance(node, flux.Bool):
        return node.value
    if isinstance(node, flux.Time):
        return _time_ns(node, 0)
    if isinstance(node, flux.Member) and isinstance(node.obj, flux.Ident) and node.obj.name == var:
        return row.get(node.prop)
    if isinstance(node, flux.Ident) and node.name.startswith(var + "."):
        return row.get(node.name[len(var) + 1 :])
    if isinstance(node, flux.Ident) and node.name.startswith("params."):
        return params[node.name.split(".", 1)[1]]
    if isinstance(node, flux.Ident) and node.name in params:
        return params[node.name]
    raise FluxEvalError(f"unsupported value {node!r}")


def _pred(node: object, row: dict, var: str, params: dict) -> bool:
    flux = _flux_ast()
    if isinstance(node, flux.BinOp) and node.op == "and":
        return _pred(node.left, row, var, params) and _pred(node.right, row, var, params)
    if isinstance(node, flux.BinOp) and node.op == "or":
        return _pred(node.left, row, var, params) or _pred(node.right, row, var, params)
    if isinstance(node, flux.Unary) and node.op == "not":
        return not _pred(node.operand, row, var, params)
    if isinstance(node, flux.Unary) and node.op == "exists":
        return _value(node.operand, row, var, params) is not None
    if isinstance(node, flux.Call) and node.name == "contains":
        v = _value(node.args["value"], row, var, params)
        return v in [_value(i, row, var, params) for i in node.args["set"].items]  # type: ignore[attr-defined]
    if isinstance(node, flux.BinOp):
        left = _value(node.left, row, var, params)
        if node.op in ("=~", "!~"):
            hit = left is not None and re.search(node.right.pattern, str(left)) is not None  # type: ignore[attr-defined]
            return hit if node.op == "=~" else (left is not None and not hit)
        right = _value(node.right, row, var, params)
        if left is None or right is None:
            return False
        ops = {
            "==": lambda a, b: a == b,
            "!=": lambda a, b: a != b,
            "<": lambda a, b: a < b,
            ">": lambda a, b: a > b,
            "<=": lambda a, b: a <= b,
            ">=": lambda a, b: a >= b,
        }
        return bool(ops[node.op](left, right))
    raise FluxEvalError(f"unsupported predicate {node!r}")


def _regroup(tables: list[FluxTable], key: tuple[str, ...]) -> list[FluxTable]:
    out: dict[tuple, FluxTable] = {}
    for t in tables:
        for row in t.rows:
            k = tuple(row.get(c) for c in key)
            out.setdefault(k, FluxTable(key, [])).rows.append(row)
    return [out[k] for k in sorted(out, key=lambda k: tuple("" if v is None else str(v) for v in k))]


def _aggregate(name: str, values: list) -> object:
    vals = [v for v in values if v is not None]
    if name == "count":
        return len(vals)
    if not vals:
        return None
    if name == "mean":
        return sum(vals) / len(vals)
    if name == "sum":
        return sum(vals)
    if name == "min":
        return min(vals)
    if name == "max":
        return max(vals)
    if name == "first":
        return vals[0]
    if name == "last":
        return vals[-1]
    raise FluxEvalError(f"unsupported aggregate {name}")


def evaluate(
    query: str, store: InfluxStore, params: dict | None = None, now: int | None = None
) -> list[FluxTable]:
    """Evaluate a Flux query of the supported subset over `store`; returns the output tables."""
    import time as _time

    flux = _flux_ast()
    params = params or {}
    now = _time.time_ns() if now is None else now
    try:
        q = flux.parse(query)
    except flux.FluxError as exc:
        raise FluxEvalError(str(exc)) from exc
    calls = list(q.pipeline)
    src = calls.pop(0)
    if src.name != "from" or not isinstance(src.args.get("bucket"), flux.Str):
        raise FluxEvalError("query must start with from(bucket:)")
    db = src.args["bucket"].value
    if db not in store.databases():
        raise FluxEvalError(f"could not find bucket {db!r}")
    series: list[FluxTable] = []
    for m in store.measurements(db):
        by_series: dict[tuple, list[dict]] = {}
        for point in sorted(store.rows(db, m), key=lambda p: p["time"]):
            tags = point["tags"]
            for f, v in point["fields"].items():
                row = {"_time": point["time"], "_value": v, "_field": f, "_measurement": m, **tags}
                by_series.setdefault((m, f, tuple(sorted(tags.items()))), []).append(row)
        for (_m, _f, tags), rows in by_series.items():
            key = ("_field", "_measurement", *(k for k, _v in tags))
            series.append(FluxTable(key, sorted(rows, key=lambda r: r["_time"])))
    series.sort(
        key=lambda t: (
            tuple(str(t.rows[0].get(c)) for c in ("_measurement", "_field"))
            + tuple(f"{c}={t.rows[0].get(c)}" for c in t.key[2:])
        )
    )
    tables = series
    start = stop = None
    for call in calls:
        name = call.name
        if name == "range":
            start = _time_ns(call.args["start"], now)
            stop = _time_ns(call.args["stop"], now) if "stop" in call.args else now
            new = []
            for t in tables:
                rows = [{**r, "_start": start, "_stop": stop} for r in t.rows if start <= r["_time"] < stop]  # type: ignore[operator]
                if rows:
                    new.append(FluxTable(("_start", "_stop", *t.key), rows))
            tables = new
        elif name == "filter":
            fn = call.args["fn"]
            var = fn.params[0]
            tables = [FluxTable(t.key, [r for r in t.rows if _pred(fn.body, r, var, params)]) for t in tables]
            tables = [t for t in tables if t.rows]
        elif name in ("pivot", "schema.fieldsAsCols"):
            new = []
            for t in _regroup(tables, tuple(c for c in tables[0].key if c != "_field") if tables else ()):
                rows: dict[int, dict] = {}
                for r in t.rows:
                    base = {k: v for k, v in r.items() if k not in ("_field", "_value")}
                    rows.setdefault(r["_time"], base)[r["_field"]] = r["_value"]  # type: ignore[index]
                new.append(FluxTable(t.key, [rows[k] for k in sorted(rows)]))
            tables = new
        elif name == "group":
            cols = [c.value for c in call.args["columns"].items] if "columns" in call.args else []
            tables = _regroup(tables, tuple(cols))
        elif name == "aggregateWindow":
            every = _dur_ns(call.args["every"])
            fn = call.args["fn"].name
            create_empty = not (
                isinstance(call.args.get("createEmpty"), flux.Bool) and not call.args["createEmpty"].value
            )
            time_src = call.args["timeSrc"].value if "timeSrc" in call.args else "_stop"
            new = []
            for t in tables:
                windows: dict[int, list] = {}
                for r in t.rows:
                    windows.setdefault(r["_time"] // every * every, []).append(r["_value"])  # type: ignore[operator]
                if create_empty and start is not None:
                    w = start // every * every
                    while w < stop:  # type: ignore[operator]
                        windows.setdefault(w, [])
                        w += every
                base = {c: t.rows[0].get(c) for c in t.key}
                rows = []
                for w in sorted(windows):
                    lo, hi = max(w, start or w), min(w + every, stop or w + every)
                    rows.append(
                        {
                            **base,
                            "_time": hi if time_src == "_stop" else lo,
                            "_value": _aggregate(fn, windows[w]),
                        }
                    )
                new.append(FluxTable(t.key, rows))
            tables = new
        elif name in ("mean", "sum", "count"):
            tables = [
                FluxTable(
                    t.key,
                    [
                        {
                            **{c: t.rows[0].get(c) for c in t.key},
                            "_value": _aggregate(name, [r["_value"] for r in t.rows]),
                        }
                    ],
                )
                for t in tables
            ]
        elif name in ("min", "max"):
            pick = min if name == "min" else max
            tables = [FluxTable(t.key, [pick(t.rows, key=lambda r: r["_value"])]) for t in tables]
        elif name in ("first", "last"):
            tables = [FluxTable(t.key, [t.rows[0] if name == "first" else t.rows[-1]]) for t in tables]
        elif name == "sort":
            cols = [c.value for c in call.args["columns"].items] if "columns" in call.args else ["_value"]
            desc = isinstance(call.args.get("desc"), flux.Bool) and call.args["desc"].value
            tables = [
                FluxTable(
                    t.key,
                    sorted(t.rows, key=lambda r, cols=cols: tuple(r.get(c) for c in cols), reverse=desc),
                )
                for t in tables
            ]
        elif name == "limit":
            n = int(call.args["n"].text)
            off = int(call.args["offset"].text) if "offset" in call.args else 0
            tables = [FluxTable(t.key, t.rows[off : off + n]) for t in tables]
        elif name in ("keep", "drop"):
            cols = {c.value for c in call.args["columns"].items}
            keep = (
                (lambda c, cols=cols: c in cols) if name == "keep" else (lambda c, cols=cols: c not in cols)
            )
            tables = [
                FluxTable(
                    tuple(c for c in t.key if keep(c)),
                    [{k: v for k, v in r.items() if keep(k)} for r in t.rows],
                )
                for t in tables
            ]
        elif name == "yield":
            continue
        else:
            raise FluxEvalError(f"{name}() is not evaluated by this test double")
    return [t for t in tables if t.rows]


if __name__ == "__main__":
    import argparse
    import time

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--token", default="test-token")
    ap.add_argument("--port", type=int, default=0)
    ns = ap.parse_args()
    with InfluxDB3TestServer(ns.token, ns.port) as srv:
        print(srv.url, flush=True)
        while True:
            time.sleep(3600)
