"""A wire-level InfluxDB test double for the services' test suites.

No InfluxDB server can run where these tests run: no package registry we use ships an InfluxDB 2 or 3
server binary, and there is no container runtime. So this package stands in for one on 127.0.0.1,
speaking the requests influxdb-client 1.x and influxdb3-python send, and keeping what was written in
memory. It is a test double, not a database: it proves that a service sends the right requests and
reads the answers correctly, not how a real InfluxDB plans queries, deduplicates, retains or
authorises.

What it serves
    ``POST /api/v2/write?org=&bucket=&precision=ns|us|ms|s``   line protocol (influxdb-client 1.x, and
                                                               influxdb3-python's default write path)
    ``POST /api/v3/write_lp?db=&precision=nanosecond|...``     line protocol (influxdb3-python, v3 API)
    ``POST /api/v2/query``                                      a small Flux subset (``from |> range |>
                                                               filter``), answered as annotated CSV
    ``GET|HEAD /ping``, ``GET /health``                         liveness, ``X-Influxdb-Version`` header
    Arrow Flight ``DoGet``                                      influxdb3-python's queries: the JSON
                                                               ticket ``{database, sql_query,
                                                               query_type, params}`` is run as SQL with
                                                               DataFusion over the stored tables

The Flight side is on when ``pyarrow`` is installed (SQL also needs ``datafusion``); then one loopback
port serves both, as InfluxDB 3 does: connections that open with the HTTP/2 preface go to Flight, the
others to HTTP. Without pyarrow only the HTTP side runs, so a suite that never queries over Flight does
not need it.

Semantics kept from InfluxDB: a point is one series (measurement + tag set) at one time, and writing it
again merges the fields; a field keeps its first type (another type is rejected); SQL sees one table per
measurement with a tz-naive ``timestamp[ns]`` ``time`` column, tags as strings and one column per field
(each carrying ``iox::column::type`` metadata). Writes, Flux queries and Flight calls need the token
(``Authorization: Token|Bearer <token>`` over HTTP, ``authorization: Bearer <token>`` over Flight).
InfluxQL, Flux beyond the subset, and InfluxDB-only SQL functions (``date_bin_gapfill``, ``selector_*``)
are refused rather than guessed.

Storage API (stable; the suites assert on it)
    ``server.rows(database, measurement)``  -> ``[{"time": int ns, "tags": {...}, "fields": {...}}]``
                                               in first-write order (copies)
    ``server.databases()`` / ``server.measurements(database)``
    ``server.write_line_protocol(database, text, precision="ns")`` to seed data without HTTP
    ``server.store``                        -> :class:`InfluxStore` (``append``, ``write``, ``arrow``)
    ``server.requests`` / ``server.tickets`` / ``server.flight_headers``   what arrived
    ``server.url``                          -> ``http://127.0.0.1:<port>`` for both clients
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from homeiq_common.testing.influxdb.flux import (
    FluxError,
    FluxTable,
    flux_tables,
    parse_flux,
    query_params,
    rfc3339,
    run_flux,
    to_annotated_csv,
)
from homeiq_common.testing.influxdb.front import PortFront
from homeiq_common.testing.influxdb.lineprotocol import (
    PRECISION_NS,
    LineProtocolError,
    UInt,
    parse_line,
    parse_line_protocol,
)
from homeiq_common.testing.influxdb.store import FieldTypeConflict, InfluxStore, field_type

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "PRECISION_NS",
    "FieldTypeConflict",
    "FluxError",
    "FluxTable",
    "InfluxDBTestServer",
    "InfluxStore",
    "LineProtocolError",
    "RecordedRequest",
    "UInt",
    "field_type",
    "flight_available",
    "flux_tables",
    "parse_flux",
    "parse_line",
    "parse_line_protocol",
    "query_params",
    "rfc3339",
    "run_flux",
    "to_annotated_csv",
]

WRITE_PATHS = ("/api/v2/write", "/api/v3/write_lp")


def flight_available() -> bool:
    """Whether pyarrow (with Flight) is installed, i.e. whether the double can serve influxdb3-python queries."""
    if importlib.util.find_spec("pyarrow") is None:
        return False
    try:
        import pyarrow.flight  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request as the test double received it (body decompressed when gzip-encoded)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


class _Handler(BaseHTTPRequestHandler):
    server: _Server
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

    def _send(self, status: int, body: bytes = b"", content_type: str | None = None) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("X-Influxdb-Version", self.server.owner.version)
        self.send_header("X-Influxdb-Build", "OSS")
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
        token = self.server.owner.token
        if token is None:
            return True
        scheme, _, given = self.headers.get("Authorization", "").partition(" ")
        return scheme in ("Token", "Bearer") and given == token

    # -- verbs
    def do_HEAD(self) -> None:  # noqa: N802
        self.do_GET()

    def do_GET(self) -> None:  # noqa: N802
        path, _ = self._record(b"")
        version = self.server.owner.version
        if path == "/ping" and version.startswith("2."):
            self._send(HTTPStatus.NO_CONTENT)
        elif path == "/ping":
            self._send(HTTPStatus.OK, json.dumps({"version": version, "revision": "test-double"}).encode(),
                       "application/json")
        elif path == "/health":
            body = {"name": "influxdb", "message": "ready for queries and writes", "status": "pass",
                    "version": version}
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
        if path not in (*WRITE_PATHS, "/api/v2/query"):
            self._error(HTTPStatus.NOT_FOUND, "not found", f"path not found: {path}")
            return
        if not self._authorized():
            self._error(HTTPStatus.UNAUTHORIZED, "unauthorized", "unauthorized access")
            return
        if path == "/api/v2/query":
            self._query(body)
        else:
            self._write(path, query, body)

    def _write(self, path: str, query: dict[str, str], body: bytes) -> None:
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
            self.server.owner.store.write(database, points)
        except FieldTypeConflict as exc:
            status = HTTPStatus.UNPROCESSABLE_ENTITY if path == "/api/v2/write" else HTTPStatus.BAD_REQUEST
            self._error(status, "unprocessable entity", f"failure writing points to database: partial write: {exc}")
            return
        except (LineProtocolError, UnicodeDecodeError) as exc:
            self._error(HTTPStatus.BAD_REQUEST, "invalid", f"unable to parse points: {exc}")
            return
        self._send(HTTPStatus.NO_CONTENT)

    def _query(self, body: bytes) -> None:
        try:
            if "vnd.flux" in self.headers.get("Content-Type", ""):
                payload: dict[str, Any] = {"query": body.decode("utf-8")}
            else:
                payload = json.loads(body or b"{}")
            tables = self.server.owner.flux_tables(payload)
        except (ValueError, KeyError, TypeError) as exc:
            self._error(HTTPStatus.BAD_REQUEST, "invalid", f"compilation failed: {exc}")
            return
        self._send(HTTPStatus.OK, to_annotated_csv(tables).encode("utf-8"), "text/csv; charset=utf-8")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: InfluxDBTestServer


class InfluxDBTestServer:
    """The test double; ``start()`` binds 127.0.0.1 on a free port (or use ``with``).

    *flight*: serve influxdb3-python's Flight queries on the same port (default: when pyarrow is installed).
    *token*: the token writes and queries must carry (``None``: no check).
    """

    def __init__(self, token: str | None = "homeiq-test-token", host: str = "127.0.0.1", port: int = 0,
                 version: str = "2.7.11", flight: bool | None = None) -> None:
        self.token = token
        self.version = version
        self.flight = flight_available() if flight is None else flight
        self.store = InfluxStore()
        self.requests: list[RecordedRequest] = []
        self.tickets: list[dict[str, Any]] = []
        self.flight_headers: list[dict[str, str]] = []
        self._address = (host, port)
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self._flight_server: Any = None
        self._front: PortFront | None = None

    def start(self) -> InfluxDBTestServer:
        http_address = ("127.0.0.1", 0) if self.flight else self._address
        self._httpd = _Server(http_address, _Handler)
        self._httpd.owner = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="influxdb-test-double",
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        if self.flight:
            from homeiq_common.testing.influxdb.flight import FlightQueryServer

            self._flight_server = FlightQueryServer(self)
            self._front = PortFront(self._httpd.server_address[1], self._flight_server.port, *self._address)
            self._front.start()
        return self

    def stop(self) -> None:
        if self._front is not None:
            self._front.stop()
            self._front = None
        if self._flight_server is not None:
            self._flight_server.shutdown()
            self._flight_server = None
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> InfluxDBTestServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def host(self) -> str:
        return self._public()[0]

    @property
    def port(self) -> int:
        return self._public()[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _public(self) -> tuple[str, int]:
        if self._front is not None:
            return self._front.address
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return str(host), int(port)

    # -- storage API
    def rows(self, database: str, measurement: str) -> list[dict[str, Any]]:
        """Points of *measurement* in *database*, in first-write order: ``{"time", "tags", "fields"}``."""
        return self.store.rows(database, measurement)

    def databases(self) -> list[str]:
        return self.store.databases()

    def measurements(self, database: str) -> list[str]:
        return self.store.measurements(database)

    def write_line_protocol(self, database: str, text: str, precision: str = "ns") -> int:
        """Seed *database* from line protocol without going through HTTP; returns the point count."""
        return self.store.write(database, parse_line_protocol(text, precision))

    def requests_to(self, path: str) -> Iterator[RecordedRequest]:
        """The recorded requests whose path is *path*."""
        return (r for r in list(self.requests) if r.path == path)

    def writes(self) -> list[RecordedRequest]:
        """The recorded write requests (v2 and v3 API)."""
        return [r for r in list(self.requests) if r.path in WRITE_PATHS]

    # -- query sides (override flux_tables to answer more Flux)
    def flux_tables(self, payload: dict[str, Any]) -> list[FluxTable]:
        """Answer a ``/api/v2/query`` body (``{"query": flux, ...}``); raise ``ValueError`` to refuse it."""
        return flux_tables(self.store, parse_flux(payload["query"], params=query_params(payload)))

    def run_sql(self, database: str, sql: str, params: dict[str, Any] | None = None) -> pa.Table:
        """Run SQL over *database* as the Flight side does (needs pyarrow and datafusion)."""
        from homeiq_common.testing.influxdb.flight import run_sql

        return run_sql(self.store, database, sql, params)
