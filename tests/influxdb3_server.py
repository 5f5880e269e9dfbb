"""A wire-level test double of an InfluxDB 3 server (and of the InfluxDB 2 Flux query endpoint).

No InfluxDB 3 (or 2.x) server can run on these machines, so this double speaks the exact wire protocol
the clients use (reference influxdb.md §7.2) and keeps data in memory:

- HTTP/1.1: `POST /api/v2/write?org=&bucket=&precision=ns|us|ms|s` (what influxdb-client 1.x and
  influxdb3-python's default mode send) and `POST /api/v3/write_lp?db=&precision=nanosecond|...`
  (`no_sync`/`accept_partial` accepted), gzip bodies, `Authorization: Token|Bearer <token>` checked,
  line protocol parsed into tables (a point with the same series and time merges fields, as on
  InfluxDB); `GET /ping` answers with `X-Influxdb-Version`; `POST /api/v2/query` answers the Flux
  queries of influxdb-client 1.x for a subset (from/range/filter/pivot/group/aggregateWindow/
  aggregates/first/last/sort/limit/keep/drop/yield) as annotated CSV, so old programs run unchanged.
- Arrow Flight (gRPC): `DoGet` reads influxdb3-python's JSON ticket (`database`, `sql_query`,
  `query_type`, `params`), checks `authorization: Bearer <token>`, and runs the SQL with DataFusion
  over the written tables: `time` is tz-naive `timestamp[ns]`, tags are strings, one column per
  field, each field carrying `iox::column::type` metadata. InfluxQL is refused.
- One port for both: a loopback TCP front peeks at each connection and sends HTTP/2 prior-knowledge
  connections (`PRI * HTTP/2.0`) to the Flight server, everything else to the HTTP server, just as
  the real server serves writes and gRPC queries on one host:port.

What this proves: client plumbing, request shapes, SQL syntax and semantics as DataFusion runs them.
What it cannot prove: InfluxDB-only SQL functions, server error bodies, dedup/partial-write rules,
retention, auth scopes. Run it standalone with `python tests/influxdb3_server.py [--token T]`.
"""

from __future__ import annotations

import gzip
import json
import re
import select
import socket
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import datafusion
import pyarrow as pa
import pyarrow.flight as flight

VERSION = "3.0.0-test-double"
PRECISION_NS = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000}
V3_PRECISION = {"nanosecond": "ns", "microsecond": "us", "millisecond": "ms", "second": "s"}


class UInt(int):
    """An unsigned-integer field value (line protocol `123u`)."""


class LineProtocolError(ValueError):
    pass


# ---- line protocol ---------------------------------------------------------------------------------


def _split_unescaped(text: str, sep: str) -> list[str]:
    out, cur, i, quoted = [], [], 0, False
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            cur.append(text[i : i + 2])
            i += 2
            continue
        if c == '"':
            quoted = not quoted
        if c == sep and not quoted:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    out.append("".join(cur))
    return out


def _unescape(text: str) -> str:
    return re.sub(r"\\([,= \\\"])", r"\1", text)


def _field_value(raw: str) -> object:
    if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
        return re.sub(r'\\(["\\])', r"\1", raw[1:-1])
    if raw in ("t", "T", "true", "True", "TRUE"):
        return True
    if raw in ("f", "F", "false", "False", "FALSE"):
        return False
    if raw.endswith("i"):
        return int(raw[:-1])
    if raw.endswith("u"):
        return UInt(int(raw[:-1]))
    return float(raw)


@dataclass(frozen=True)
class PointRow:
    measurement: str
    tags: tuple[tuple[str, str], ...]
    fields: dict[str, object]
    time: int  # ns since epoch


def parse_line_protocol(body: str, precision: str = "ns", now_ns: int | None = None) -> list[PointRow]:
    """Parse line protocol into points; raises LineProtocolError on a malformed line."""
    import time as _time

    points = []
    for n, line in enumerate(body.split("\n"), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = _split_unescaped(line, " ")
        parts = [p for p in parts if p != ""]
        if len(parts) not in (2, 3):
            raise LineProtocolError(f"unable to parse line {n}: {line!r}")
        key = _split_unescaped(parts[0], ",")
        measurement = _unescape(key[0])
        tags = []
        for kv in key[1:]:
            k, _, v = kv.partition("=")
            if not _ or not v:
                raise LineProtocolError(f"unable to parse tag {kv!r} on line {n}")
            tags.append((_unescape(k), _unescape(v)))
        fields = {}
        for kv in _split_unescaped(parts[1], ","):
            k, eq, v = kv.partition("=")
            if not eq:
                raise LineProtocolError(f"unable to parse field {kv!r} on line {n}")
            try:
                fields[_unescape(k)] = _field_value(v)
            except ValueError as exc:
                raise LineProtocolError(f"invalid field value {v!r} on line {n}") from exc
        if len(parts) == 3:
            t = int(parts[2]) * PRECISION_NS[precision]
        else:
            t = now_ns if now_ns is not None else _time.time_ns()
        points.append(PointRow(measurement, tuple(sorted(tags)), fields, t))
    return points


# ---- storage ---------------------------------------------------------------------------------------


@dataclass
class Store:
    """In-memory databases: measurement -> (series tags, time) -> fields."""

    data: dict[str, dict[str, dict[tuple, dict[str, object]]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, database: str, points: Iterable[PointRow]) -> None:
        with self.lock:
            db = self.data.setdefault(database, {})
            for p in points:
                table = db.setdefault(p.measurement, {})
                table.setdefault((p.tags, p.time), {}).update(p.fields)

    def measurements(self, database: str) -> list[str]:
        return sorted(self.data.get(database, {}))

    def points(self, database: str, measurement: str) -> list[tuple[dict[str, str], int, dict[str, object]]]:
        with self.lock:
            table = dict(self.data.get(database, {}).get(measurement, {}))
        return [
            (dict(tags), t, dict(fields))
            for (tags, t), fields in sorted(table.items(), key=lambda kv: kv[0][1])
        ]

    def arrow(self, database: str, measurement: str) -> pa.Table:
        """The measurement as InfluxDB 3 returns it: time, tags (strings), one column per field."""
        pts = self.points(database, measurement)
        tag_keys = sorted({k for tags, _t, _f in pts for k in tags})
        field_types: dict[str, pa.DataType] = {}
        for _tags, _t, fields in pts:
            for k, v in fields.items():
                field_types.setdefault(k, _arrow_type(v))
        cols: dict[str, pa.Array] = {}
        meta: dict[str, dict[bytes, bytes]] = {}
        names = sorted([*tag_keys, *field_types, "time"])
        for name in names:
            if name == "time":
                cols[name] = pa.array([t for _tags, t, _f in pts], pa.timestamp("ns"))
                meta[name] = {b"iox::column::type": b"iox::column_type::timestamp"}
            elif name in tag_keys:
                cols[name] = pa.array([tags.get(name) for tags, _t, _f in pts], pa.string())
                meta[name] = {b"iox::column::type": b"iox::column_type::tag"}
            else:
                typ = field_types[name]
                cols[name] = pa.array([f.get(name) for _tags, _t, f in pts], typ)
                meta[name] = {b"iox::column::type": b"iox::column_type::field::" + _iox_kind(typ).encode()}
        schema = pa.schema([pa.field(n, cols[n].type, metadata=meta[n]) for n in names])
        return pa.table(list(cols.values()), schema=schema)


def _arrow_type(v: object) -> pa.DataType:
    if isinstance(v, bool):
        return pa.bool_()
    if isinstance(v, UInt):
        return pa.uint64()
    if isinstance(v, int):
        return pa.int64()
    if isinstance(v, float):
        return pa.float64()
    return pa.string()


def _iox_kind(t: pa.DataType) -> str:
    return {pa.bool_(): "boolean", pa.uint64(): "uinteger", pa.int64(): "integer", pa.float64(): "float"}.get(
        t, "string"
    )


# ---- HTTP ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """One HTTP request as received (body gunzipped)."""

    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    body: bytes


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        return

    def _reply(
        self,
        status: int,
        body: bytes = b"",
        ctype: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("X-Influxdb-Version", VERSION)
        self.send_header("X-Influxdb-Build", "test-double")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if body or status != 204:
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def _error(self, status: int, code: str, message: str) -> None:
        self._reply(status, json.dumps({"code": code, "message": message}).encode())

    def _read(self) -> Request:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.headers.get("Content-Encoding", "").lower() == "gzip":
            body = gzip.decompress(body)
        parts = urlsplit(self.path)
        params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        req = Request(self.command, parts.path, params, {k: v for k, v in self.headers.items()}, body)
        self.server.owner.requests.append(req)
        return req

    def _authorised(self, req: Request) -> bool:
        want = self.server.owner.token
        if want is None:
            return True
        got = req.headers.get("Authorization", "")
        return got in (f"Token {want}", f"Bearer {want}")

    def do_GET(self) -> None:
        req = self._read()
        if req.path == "/ping":
            self._reply(200, json.dumps({"version": VERSION, "revision": "test"}).encode())
        elif req.path == "/health":
            self._reply(200, json.dumps({"status": "pass", "version": VERSION}).encode())
        else:
            self._error(404, "not found", f"{req.path} not found")

    def do_HEAD(self) -> None:
        self._read()
        self._reply(204)

    def do_POST(self) -> None:
        req = self._read()
        if req.path not in ("/api/v2/write", "/api/v3/write_lp", "/api/v2/query"):
            self._error(404, "not found", f"{req.path} not found")
            return
        if not self._authorised(req):
            self._error(401, "unauthorized", "unauthorized access")
            return
        if req.path == "/api/v2/query":
            self._query(req)
            return
        if req.path == "/api/v2/write":
            db, precision = req.params.get("bucket"), req.params.get("precision", "ns")
        else:
            db, precision = (
                req.params.get("db"),
                V3_PRECISION.get(req.params.get("precision", "nanosecond"), "?"),
            )
        if not db:
            self._error(400, "invalid", "missing bucket/db parameter")
            return
        if precision not in PRECISION_NS:
            self._error(400, "invalid", f"invalid precision {precision!r}")
            return
        try:
            points = parse_line_protocol(req.body.decode("utf-8"), precision)
        except (LineProtocolError, UnicodeDecodeError) as exc:
            self._error(400, "invalid", f"unable to parse line protocol: {exc}")
            return
        self.server.owner.store.add(db, points)
        self._reply(204)

    def _query(self, req: Request) -> None:
        try:
            payload = json.loads(req.body or b"{}")
            db_query = payload.get("query", "")
            tables = evaluate(
                db_query, self.server.owner.store, payload.get("params") or _extern_params(payload)
            )
        except (FluxEvalError, ValueError, KeyError) as exc:
            self._error(400, "invalid", f"error in query specification: {exc}")
            return
        self._reply(200, to_annotated_csv(tables).encode(), ctype="text/csv; charset=utf-8")


def _literal(value: dict) -> object:
    kind, raw = value.get("type"), value.get("value")
    if kind == "IntegerLiteral":
        return int(raw)
    if kind == "FloatLiteral":
        return float(raw)
    return raw


def _extern_params(payload: dict) -> dict:
    """Query parameters as influxdb-client 1.x sends them: `option <name> = <literal>` statements in
    `extern` (or one `option params = {...}` object)."""
    out: dict = {}
    for stmt in (payload.get("extern") or {}).get("body") or []:
        assignment = stmt.get("assignment") or {}
        name = (assignment.get("id") or {}).get("name")
        init = assignment.get("init") or {}
        if init.get("type") == "ObjectExpression":
            for prop in init.get("properties") or []:
                out[(prop.get("key") or {}).get("name")] = _literal(prop.get("value") or {})
            if name != "params":
                out[name] = {k: v for k, v in out.items()}
        else:
            out[name] = _literal(init)
    return out


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    owner: InfluxDB3TestServer


# ---- Arrow Flight ------------------------------------------------------------------------------------


class _AuthMiddlewareFactory(flight.ServerMiddlewareFactory):
    def __init__(self, owner: InfluxDB3TestServer) -> None:
        super().__init__()
        self.owner = owner

    def start_call(
        self, info: flight.CallInfo, headers: dict[str, list[str]]
    ) -> flight.ServerMiddleware | None:
        self.owner.flight_headers.append({k: v[-1] for k, v in headers.items()})
        if self.owner.token is not None:
            got = (headers.get("authorization") or [""])[-1]
            if got != f"Bearer {self.owner.token}":
                raise flight.FlightUnauthenticatedError("unauthenticated: bad or missing bearer token")
        return None


class _FlightServer(flight.FlightServerBase):
    def __init__(self, owner: InfluxDB3TestServer) -> None:
        super().__init__("grpc+tcp://127.0.0.1:0", middleware={"auth": _AuthMiddlewareFactory(owner)})
        self.owner = owner

    def do_get(self, context: flight.ServerCallContext, ticket: flight.Ticket) -> flight.RecordBatchStream:
        try:
            req = json.loads(ticket.ticket.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise flight.FlightServerError(f"invalid ticket: {exc}") from exc
        self.owner.tickets.append(req)
        if req.get("query_type", "sql") != "sql":
            raise flight.FlightServerError("this test double runs SQL only (InfluxQL is not implemented)")
        db = req.get("database")
        if not db or db not in self.owner.store.data:
            raise flight.FlightServerError(f"database not found: {db!r}")
        table = self.owner.run_sql(db, req["sql_query"], req.get("params") or None)
        return flight.RecordBatchStream(table)


# ---- one port for HTTP/1.1 and gRPC --------------------------------------------------------------------


class _Front:
    """A loopback TCP front: HTTP/2 prior-knowledge connections go to Flight, the rest to HTTP."""

    def __init__(self, http_port: int, flight_port: int, port: int = 0) -> None:
        self.http_port, self.flight_port = http_port, flight_port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()
        try:
            self.sock.close()
        except OSError:
            pass

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(10)
            head = b""
            while len(head) < 3:
                chunk = (
                    conn.recv(3 - len(head), socket.MSG_PEEK) if not head else conn.recv(16, socket.MSG_PEEK)
                )
                if not chunk:
                    conn.close()
                    return
                head = chunk
            conn.settimeout(None)
            port = self.flight_port if head.startswith(b"PRI") else self.http_port
            upstream = socket.create_connection(("127.0.0.1", port))
        except OSError:
            conn.close()
            return
        _pump(conn, upstream)


def _pump(a: socket.socket, b: socket.socket) -> None:
    socks = [a, b]
    try:
        while True:
            readable, _, _ = select.select(socks, [], [], 60)
            if not readable:
                continue
            for s in readable:
                data = s.recv(65536)
                if not data:
                    return
                (b if s is a else a).sendall(data)
    except OSError:
        return
    finally:
        for s in socks:
            try:
                s.close()
            except OSError:
                pass


# ---- the server -------------------------------------------------------------------------------------------


class InfluxDB3TestServer:
    """HTTP writes + Flux (v2) queries + Flight SQL (v3) queries on one loopback port.

    `url` is what both clients take (`url=` for influxdb-client, `host=` for influxdb3-python).
    `requests` and `tickets` record what arrived; `write(database, lp)` seeds data directly.
    """

    def __init__(self, token: str | None = "test-token", port: int = 0) -> None:
        self.token = token
        self.store = Store()
        self.requests: list[Request] = []
        self.tickets: list[dict] = []
        self.flight_headers: list[dict[str, str]] = []
        self._http = _HTTPServer(("127.0.0.1", 0), _Handler)
        self._http.owner = self
        self._flight = _FlightServer(self)
        self._front = _Front(self._http.server_address[1], self._flight.port, port)
        self._threads: list[threading.Thread] = []

    @property
    def port(self) -> int:
        return self._front.port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> InfluxDB3TestServer:
        t = threading.Thread(target=self._http.serve_forever, daemon=True)
        t.start()
        self._threads.append(t)
        self._front.start()
        return self

    def stop(self) -> None:
        self._front.stop()
        self._http.shutdown()
        self._http.server_close()
        self._flight.shutdown()

    def __enter__(self) -> InfluxDB3TestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def write(self, database: str, line_protocol: str, precision: str = "ns") -> None:
        """Store line protocol directly (seed data)."""
        self.store.add(database, parse_line_protocol(line_protocol, precision))

    def writes(self) -> list[Request]:
        return [r for r in self.requests if r.path in ("/api/v2/write", "/api/v3/write_lp")]

    def run_sql(self, database: str, sql: str, params: dict | None = None) -> pa.Table:
        """Run SQL with DataFusion over the database's tables (as the Flight endpoint does)."""
        ctx = datafusion.SessionContext()
        for m in self.store.measurements(database):
            table = self.store.arrow(database, m)
            ctx.register_record_batches(
                m, [table.to_batches() or [pa.RecordBatch.from_pylist([], table.schema)]]
            )
        try:
            df = ctx.sql(sql, param_values=params) if params else ctx.sql(sql)
            result = df.to_arrow_table()
        except Exception as exc:  # DataFusion raises plain Exceptions for planning errors
            raise flight.FlightServerError(f"query error: {exc}") from exc
        return _with_column_metadata(result, database, self.store)


def _with_column_metadata(table: pa.Table, database: str, store: Store) -> pa.Table:
    known: dict[str, dict[bytes, bytes]] = {}
    for m in store.measurements(database):
        for f in store.arrow(database, m).schema:
            known.setdefault(f.name, f.metadata or {})
    fields = [f.with_metadata(known[f.name]) if f.name in known else f for f in table.schema]
    return table.cast(pa.schema(fields)) if fields else table


# ---- Flux (InfluxDB 2 query endpoint) -------------------------------------------------------------------
#
# An independent evaluator of the Flux subset over the stored points, in plain Python: it serves
# influxdb-client 1.x programs and gives the expected rows of the Flux translation tests. Only the
# parser is shared with fleetshift; the semantics below follow the Flux documentation.


class FluxEvalError(ValueError):
    """The Flux query is outside what this test double evaluates."""


@dataclass
class FluxTable:
    key: tuple[str, ...]  # group key columns
    rows: list[dict[str, object]]


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


def evaluate(query: str, store: Store, params: dict | None = None, now: int | None = None) -> list[FluxTable]:
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
    if db not in store.data:
        raise FluxEvalError(f"could not find bucket {db!r}")
    series: list[FluxTable] = []
    for m in store.measurements(db):
        by_series: dict[tuple, list[dict]] = {}
        for tags, t, fields in store.points(db, m):
            for f, v in fields.items():
                row = {"_time": t, "_value": v, "_field": f, "_measurement": m, **tags}
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


def _csv_type(values: list) -> str:
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


def _rfc3339(ns: int) -> str:
    from datetime import datetime

    secs, frac = divmod(ns, 10**9)
    base = datetime.fromtimestamp(secs, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return base + (("." + f"{frac:09d}".rstrip("0")) if frac else "") + "Z"


def _csv_cell(v: object, typ: str) -> str:
    if v is None:
        return ""
    if typ.startswith("dateTime"):
        return _rfc3339(v)  # type: ignore[arg-type]
    if typ == "boolean":
        return "true" if v else "false"
    if typ == "double":
        return repr(float(v))  # type: ignore[arg-type]
    text = str(v)
    if any(c in text for c in ',"\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def to_annotated_csv(tables: list[FluxTable]) -> str:
    """Flux tables as the annotated CSV of InfluxDB 2's /api/v2/query (one block per table)."""
    blocks = []
    time_cols = ("_start", "_stop", "_time")
    first = ("_start", "_stop", "_time", "_value", "_field", "_measurement")
    for i, t in enumerate(tables):
        cols: list[str] = []
        for r in t.rows:
            for c in r:
                if c not in cols:
                    cols.append(c)
        cols = [c for c in first if c in cols] + sorted(c for c in cols if c not in first)
        types = [
            "dateTime:RFC3339" if c in time_cols else _csv_type([r.get(c) for r in t.rows]) for c in cols
        ]
        lines = [
            "#datatype,string,long," + ",".join(types),
            "#group,false,false," + ",".join("true" if c in t.key else "false" for c in cols),
            "#default,_result,," + ",".join("" for _ in cols),
            ",result,table," + ",".join(cols),
        ]
        for r in t.rows:
            lines.append(
                ",,"
                + str(i)
                + ","
                + ",".join(_csv_cell(r.get(c), ty) for c, ty in zip(cols, types, strict=True))
            )
        blocks.append("\r\n".join(lines) + "\r\n")
    return "\r\n".join(blocks) + "\r\n"


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
