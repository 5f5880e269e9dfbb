"""A wire-level InfluxDB test double for the services' test suites.

No InfluxDB server can run in the places these tests run (there is no server binary on the package
registries we use, and no container runtime), so this module stands in for one at the HTTP level:
a ``ThreadingHTTPServer`` on 127.0.0.1 that speaks the same requests as InfluxDB 2.x / 3.x for the
parts the HomeIQ services use, and keeps what was written in memory.

It is a test double, not a database: it parses line protocol and answers a small subset of Flux
(``from`` / ``range`` / ``filter`` on ``_measurement``, ``_field`` and tag equality). Anything else
is answered with HTTP 400 so a test never passes on a query the double did not understand.

Endpoints
    ``POST /api/v2/write?org=&bucket=&precision=``    line protocol; precision ``ns|us|ms|s``
    ``POST /api/v3/write_lp?db=&precision=``          line protocol; precision ``nanosecond|...|second``
    ``POST /api/v2/query?org=``                       Flux (JSON body or application/vnd.flux),
                                                      answered as annotated CSV
    ``GET|HEAD /ping``                                204 with ``X-Influxdb-Version``
    ``GET /health``                                   200 JSON

Writes and queries need ``Authorization: Token <token>`` (``Bearer <token>`` is accepted too, as
InfluxDB does); otherwise 401. Request bodies sent with ``Content-Encoding: gzip`` are decompressed.

Storage API (stable; other front-ends such as a query side for the v3 client build on it)
    ``server.rows(database, measurement)``  -> list of ``{"time": int ns, "tags": {...}, "fields": {...}}``
                                               in write order (copies)
    ``server.databases()`` / ``server.measurements(database)``
    ``server.store.append(database, measurement, time_ns, tags, fields)`` to seed data directly
    ``server.write_line_protocol(database, text, precision="ns")`` to seed from line protocol
    ``server.requests``                     -> list of :class:`RecordedRequest`
    ``server.url``                          -> ``http://127.0.0.1:<port>``
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterator
from urllib.parse import parse_qsl, urlsplit

FieldValue = float | int | str | bool

#: Nanoseconds per unit for both the v2 short and the v3 long precision names.
PRECISION_NS: dict[str, int] = {
    "ns": 1,
    "us": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "nanosecond": 1,
    "microsecond": 1_000,
    "millisecond": 1_000_000,
    "second": 1_000_000_000,
}


class LineProtocolError(ValueError):
    """Raised for a line that is not valid line protocol."""


# --------------------------------------------------------------------------- storage


@dataclass
class InfluxStore:
    """Parsed points: database -> measurement -> list of rows, each row a dict.

    A row is ``{"time": <int ns>, "tags": {str: str}, "fields": {str: float|int|str|bool}}``.
    """

    _data: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def append(
        self,
        database: str,
        measurement: str,
        time_ns: int,
        tags: dict[str, str],
        fields: dict[str, FieldValue],
    ) -> None:
        row = {"time": int(time_ns), "tags": dict(tags), "fields": dict(fields)}
        with self._lock:
            self._data.setdefault(database, {}).setdefault(measurement, []).append(row)

    def rows(self, database: str, measurement: str) -> list[dict[str, Any]]:
        with self._lock:
            stored = self._data.get(database, {}).get(measurement, [])
            return [
                {"time": r["time"], "tags": dict(r["tags"]), "fields": dict(r["fields"])} for r in stored
            ]

    def databases(self) -> list[str]:
        with self._lock:
            return sorted(self._data)

    def measurements(self, database: str) -> list[str]:
        with self._lock:
            return sorted(self._data.get(database, {}))

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


# --------------------------------------------------------------------------- line protocol


def _scan(text: str, pos: int, stops: str) -> tuple[str, int]:
    """Read an escaped token from *pos* up to an unescaped character in *stops*."""
    out: list[str] = []
    while pos < len(text):
        ch = text[pos]
        if ch == "\\" and pos + 1 < len(text) and text[pos + 1] in stops + "\\=":
            out.append(text[pos + 1])
            pos += 2
            continue
        if ch in stops:
            break
        out.append(ch)
        pos += 1
    return "".join(out), pos


def _field_value(raw: str, line: str) -> FieldValue:
    if raw in ("t", "T", "true", "True", "TRUE"):
        return True
    if raw in ("f", "F", "false", "False", "FALSE"):
        return False
    try:
        if raw.endswith("i") or raw.endswith("u"):
            return int(raw[:-1])
        return float(raw)
    except ValueError:
        raise LineProtocolError(f"invalid field value {raw!r} in line {line!r}") from None


def parse_line(line: str, precision: str = "ns", default_time_ns: int | None = None) -> dict[str, Any]:
    """Parse one line of line protocol into ``{"measurement", "time", "tags", "fields"}``."""
    measurement, pos = _scan(line, 0, ", ")
    if not measurement:
        raise LineProtocolError(f"missing measurement in line {line!r}")
    tags: dict[str, str] = {}
    while pos < len(line) and line[pos] == ",":
        key, pos = _scan(line, pos + 1, "=")
        if pos >= len(line) or line[pos] != "=":
            raise LineProtocolError(f"tag without value in line {line!r}")
        value, pos = _scan(line, pos + 1, ", ")
        if not key or not value:
            raise LineProtocolError(f"empty tag key or value in line {line!r}")
        tags[key] = value
    if pos >= len(line) or line[pos] != " ":
        raise LineProtocolError(f"missing fields in line {line!r}")
    pos += 1
    fields: dict[str, FieldValue] = {}
    while True:
        key, pos = _scan(line, pos, "=")
        if pos >= len(line) or not key:
            raise LineProtocolError(f"invalid field in line {line!r}")
        pos += 1
        if pos < len(line) and line[pos] == '"':
            pos += 1
            chars: list[str] = []
            while pos < len(line) and line[pos] != '"':
                if line[pos] == "\\" and pos + 1 < len(line) and line[pos + 1] in '"\\':
                    pos += 1
                chars.append(line[pos])
                pos += 1
            if pos >= len(line):
                raise LineProtocolError(f"unterminated string field in line {line!r}")
            pos += 1
            fields[key] = "".join(chars)
        else:
            raw, pos = _scan(line, pos, ", ")
            fields[key] = _field_value(raw, line)
        if pos < len(line) and line[pos] == ",":
            pos += 1
            continue
        break
    rest = line[pos:].strip()
    if rest:
        try:
            timestamp = int(rest)
        except ValueError:
            raise LineProtocolError(f"invalid timestamp {rest!r} in line {line!r}") from None
        time_ns = timestamp * PRECISION_NS[precision]
    else:
        time_ns = default_time_ns if default_time_ns is not None else time.time_ns()
    return {"measurement": measurement, "time": time_ns, "tags": tags, "fields": fields}


def parse_line_protocol(text: str, precision: str = "ns") -> list[dict[str, Any]]:
    """Parse a line-protocol body (lines joined by ``\\n``; ``#`` comments and blank lines skipped)."""
    if precision not in PRECISION_NS:
        raise LineProtocolError(f"invalid precision {precision!r}")
    now = time.time_ns()
    points = []
    for raw_line in text.split("\n"):
        line = raw_line.rstrip("\r")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        points.append(parse_line(line, precision, default_time_ns=now))
    return points


# --------------------------------------------------------------------------- a small Flux subset


class FluxError(ValueError):
    """Raised for Flux the test double does not support."""


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
    r"""|(?P<ref>r\s*\.\s*[A-Za-z_][A-Za-z0-9_]*|r\s*\[\s*"(?:[^"\\]|\\.)*"\s*\])|(?P<word>and|or))"""
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


def _parse_predicate(expr: str) -> Predicate:
    """Parse ``r.a == "x" and (r["b"] != "y" or ...)`` into a predicate(measurement, field, tags)."""
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
        token = peek()
        if token is not None and token == ("paren", "("):
            take("paren")
            inner = disjunction()
            if take("paren") != ")":
                raise FluxError(f"unbalanced parentheses in {expr!r}")
            return inner
        ref = take("ref")
        name = ref.split(".", 1)[1].strip() if "." in ref else json.loads(ref[ref.index("[") + 1:ref.rindex("]")].strip())
        op = take("op")
        literal = json.loads(take("str"))

        def value_of(measurement: str, field_name: str, tags: dict[str, str]) -> str | None:
            if name == "_measurement":
                return measurement
            if name == "_field":
                return field_name
            if name.startswith("_"):
                raise FluxError(f"filtering on {name} is not supported by the test double")
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


def _split_stages(flux: str) -> list[str]:
    return [stage.strip() for stage in flux.split("|>")]


def parse_flux(flux: str, now_ns: int | None = None) -> FluxQuery:
    """Parse the supported Flux subset; raise FluxError for anything else."""
    now_ns = time.time_ns() if now_ns is None else now_ns
    lines = [ln for ln in flux.splitlines() if not ln.strip().startswith("//")]
    stages = _split_stages("\n".join(lines))
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
            params = dict(
                (key.strip(), value.strip())
                for key, value in (part.split(":", 1) for part in _split_args(args))
            )
            if "start" not in params or set(params) - {"start", "stop"}:
                raise FluxError(f"unsupported range arguments {args!r}")
            start_ns = _parse_time(params["start"], now_ns)
            stop_ns = _parse_time(params.get("stop", "now()"), now_ns)
            has_range = True
        elif name == "filter":
            fn = re.fullmatch(r"fn\s*:\s*\(\s*r\s*\)\s*=>\s*(.+)", args, re.S)
            if not fn:
                raise FluxError(f"unsupported filter {args!r}")
            predicates.append(_parse_predicate(fn.group(1)))
        else:
            raise FluxError(
                f"Flux function {name}() is not supported by the test double (only from/range/filter)"
            )
    if not has_range:
        raise FluxError("error in building plan while starting program: cannot submit unbounded read")
    return FluxQuery(bucket=first.group(1), start_ns=start_ns, stop_ns=stop_ns, predicates=predicates)


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


def rfc3339(time_ns: int) -> str:
    """Format epoch nanoseconds the way InfluxDB does (RFC3339 with trimmed nanoseconds)."""
    seconds, nanos = divmod(time_ns, 10**9)
    stamp = datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    if nanos:
        stamp += "." + f"{nanos:09d}".rstrip("0")
    return stamp + "Z"


def _flux_type(value: FieldValue) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "double"
    return "string"


def _flux_value(value: FieldValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def run_flux(store: InfluxStore, query: FluxQuery) -> str:
    """Evaluate *query* against *store* and render InfluxDB's annotated CSV (one block per series)."""
    series: dict[tuple[Any, ...], list[tuple[int, FieldValue]]] = {}
    for measurement in store.measurements(query.bucket):
        for row in store.rows(query.bucket, measurement):
            if not query.start_ns <= row["time"] < query.stop_ns:
                continue
            for field_name, value in row["fields"].items():
                if all(p(measurement, field_name, row["tags"]) for p in query.predicates):
                    key = (measurement, tuple(sorted(row["tags"].items())), field_name, _flux_type(value))
                    series.setdefault(key, []).append((row["time"], value))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    start, stop = rfc3339(query.start_ns), rfc3339(query.stop_ns)
    for table_id, key in enumerate(sorted(series)):
        measurement, tag_items, field_name, value_type = key
        tag_keys = [k for k, _ in tag_items]
        if table_id:
            out.write("\r\n")
        writer.writerow(["#datatype", "string", "long", "dateTime:RFC3339", "dateTime:RFC3339",
                         "dateTime:RFC3339", value_type, "string", "string"] + ["string"] * len(tag_keys))
        writer.writerow(["#group", "false", "false", "true", "true", "false", "false", "true", "true"]
                        + ["true"] * len(tag_keys))
        writer.writerow(["#default", "_result", "", "", "", "", "", "", ""] + [""] * len(tag_keys))
        writer.writerow(["", "result", "table", "_start", "_stop", "_time", "_value", "_field",
                         "_measurement"] + tag_keys)
        for time_ns, value in sorted(series[key], key=lambda item: item[0]):
            writer.writerow(["", "", str(table_id), start, stop, rfc3339(time_ns), _flux_value(value),
                             field_name, measurement] + [v for _, v in tag_items])
    return out.getvalue()


# --------------------------------------------------------------------------- HTTP front-end


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the test double received it (body decompressed when gzip-encoded)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - keep test output quiet
        pass

    # -- plumbing
    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            body = b"".join(chunks)
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Content-Encoding", "").lower() == "gzip":
            body = gzip.decompress(body)
        return body

    def _send(self, status: int, body: bytes = b"", content_type: str | None = None,
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("X-Influxdb-Version", self.server.owner.version)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, status: int, code: str, message: str) -> None:
        self._send(status, json.dumps({"code": code, "message": message}).encode(), "application/json")

    def _record(self, body: bytes) -> tuple[str, dict[str, str]]:
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        self.server.owner.requests.append(
            RecordedRequest(self.command, parts.path, query, dict(self.headers.items()), body)
        )
        return parts.path, query

    def _authorized(self) -> bool:
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        return scheme in ("Token", "Bearer") and token == self.server.owner.token

    # -- verbs
    def do_HEAD(self) -> None:  # noqa: N802
        self.do_GET()

    def do_GET(self) -> None:  # noqa: N802
        path, _ = self._record(b"")
        if path == "/ping":
            self._send(HTTPStatus.NO_CONTENT, headers={"X-Influxdb-Build": "OSS"})
        elif path == "/health":
            body = {"name": "influxdb", "message": "ready for queries and writes", "status": "pass",
                    "version": self.server.owner.version}
            self._send(HTTPStatus.OK, json.dumps(body).encode(), "application/json")
        else:
            self._error(HTTPStatus.NOT_FOUND, "not found", f"path not found: {path}")

    def do_POST(self) -> None:  # noqa: N802
        try:
            body = self._read_body()
        except (OSError, ValueError) as exc:
            self._record(b"")
            self._error(HTTPStatus.BAD_REQUEST, "invalid", f"cannot read request body: {exc}")
            return
        path, query = self._record(body)
        if path not in ("/api/v2/write", "/api/v3/write_lp", "/api/v2/query"):
            self._error(HTTPStatus.NOT_FOUND, "not found", f"path not found: {path}")
            return
        if not self._authorized():
            self._error(HTTPStatus.UNAUTHORIZED, "unauthorized", "unauthorized access")
            return
        if path == "/api/v2/query":
            self._query(body)
            return
        if path == "/api/v2/write":
            database, precision = query.get("bucket"), query.get("precision", "ns")
        else:
            database, precision = query.get("db"), query.get("precision", "nanosecond")
            precision = {"auto": "nanosecond"}.get(precision, precision)
        if not database:
            self._error(HTTPStatus.BAD_REQUEST, "invalid", "missing bucket/db parameter")
            return
        try:
            points = parse_line_protocol(body.decode("utf-8"), precision)
        except (LineProtocolError, UnicodeDecodeError) as exc:
            self._error(HTTPStatus.BAD_REQUEST, "invalid", f"unable to parse points: {exc}")
            return
        for point in points:
            self.server.owner.store.append(database, point["measurement"], point["time"],
                                           point["tags"], point["fields"])
        self._send(HTTPStatus.NO_CONTENT)

    def _query(self, body: bytes) -> None:
        content_type = self.headers.get("Content-Type", "")
        try:
            flux = body.decode("utf-8") if "vnd.flux" in content_type else json.loads(body)["query"]
            parsed = parse_flux(flux)
        except (FluxError, KeyError, ValueError) as exc:
            self._error(HTTPStatus.BAD_REQUEST, "invalid", f"compilation failed: {exc}")
            return
        csv_text = run_flux(self.server.owner.store, parsed)
        self._send(HTTPStatus.OK, csv_text.encode("utf-8"), "text/csv; charset=utf-8")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: "InfluxDBTestServer"


class InfluxDBTestServer:
    """The HTTP test double; ``start()`` binds 127.0.0.1 on a free port (or use ``with``)."""

    def __init__(self, token: str = "homeiq-test-token", host: str = "127.0.0.1", port: int = 0,
                 version: str = "2.7.11") -> None:
        self.token = token
        self.version = version
        self.store = InfluxStore()
        self.requests: list[RecordedRequest] = []
        self._address = (host, port)
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> "InfluxDBTestServer":
        self._httpd = _Server(self._address, _Handler)
        self._httpd.owner = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="influxdb-test-double",
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> "InfluxDBTestServer":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def host(self) -> str:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[0]  # type: ignore[return-value]

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- storage API
    def rows(self, database: str, measurement: str) -> list[dict[str, Any]]:
        """Rows of *measurement* in *database*, in write order: ``{"time", "tags", "fields"}``."""
        return self.store.rows(database, measurement)

    def databases(self) -> list[str]:
        return self.store.databases()

    def measurements(self, database: str) -> list[str]:
        return self.store.measurements(database)

    def write_line_protocol(self, database: str, text: str, precision: str = "ns") -> int:
        """Seed *database* from line protocol without going through HTTP; returns the point count."""
        points = parse_line_protocol(text, precision)
        for point in points:
            self.store.append(database, point["measurement"], point["time"], point["tags"], point["fields"])
        return len(points)

    def requests_to(self, path: str) -> Iterator[RecordedRequest]:
        """The recorded requests whose path is *path*."""
        return (r for r in list(self.requests) if r.path == path)
