"""The InfluxDB 3 query side of the test double: Arrow Flight ``DoGet`` running SQL with DataFusion.

influxdb3-python sends every query as one ``DoGet`` whose ticket is UTF-8 JSON
``{"database", "sql_query", "query_type", "params"}`` with the header ``authorization: Bearer <token>``.
This module needs ``pyarrow`` (and ``datafusion`` to run SQL); the server imports it only when its
Flight side is on, so a suite without pyarrow still gets the HTTP side.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.flight as flight

if TYPE_CHECKING:
    from homeiq_common.testing.influxdb import InfluxDBTestServer
    from homeiq_common.testing.influxdb.store import InfluxStore


def run_sql(store: InfluxStore, database: str, sql: str, params: dict[str, Any] | None = None) -> pa.Table:
    """Run *sql* with DataFusion over *database*'s measurements (one table each, as InfluxDB 3 names them).

    Raises ``ValueError`` for SQL DataFusion cannot plan or run. Result columns that come straight from a
    stored column keep its ``iox::column::type`` metadata.
    """
    try:
        import datafusion
    except ImportError as exc:  # a suite that queries needs datafusion among its test dependencies
        raise ValueError("the InfluxDB test double needs the datafusion package to run SQL") from exc
    ctx = datafusion.SessionContext()
    known: dict[str, dict[bytes, bytes]] = {}
    for measurement in store.measurements(database):
        table = store.arrow(database, measurement)
        for column in table.schema:
            known.setdefault(column.name, column.metadata or {})
        batches = table.to_batches() or [pa.RecordBatch.from_pylist([], table.schema)]
        ctx.register_record_batches(measurement, [batches])
    try:
        frame = ctx.sql(sql, param_values=params) if params else ctx.sql(sql)
        result = frame.to_arrow_table()
    except Exception as exc:  # DataFusion raises plain Exceptions for planning and execution errors
        raise ValueError(f"error while planning or running the query: {exc}") from exc
    columns = [c.with_metadata(known[c.name]) if c.name in known else c for c in result.schema]
    return result.cast(pa.schema(columns)) if columns else result


class _AuthMiddlewareFactory(flight.ServerMiddlewareFactory):
    """Records each call's headers and refuses calls without ``authorization: Bearer <token>``."""

    def __init__(self, owner: InfluxDBTestServer) -> None:
        super().__init__()
        self.owner = owner

    def start_call(self, info: flight.CallInfo, headers: dict[str, list[str]]) -> None:
        self.owner.flight_headers.append({k: v[-1] for k, v in headers.items()})
        if self.owner.token is not None:
            got = (headers.get("authorization") or [""])[-1]
            if got != f"Bearer {self.owner.token}":
                raise flight.FlightUnauthenticatedError("unauthenticated: bad or missing bearer token")
        return None


class FlightQueryServer(flight.FlightServerBase):
    """A Flight server on 127.0.0.1 answering influxdb3-python's ``DoGet`` tickets from the owner's store."""

    def __init__(self, owner: InfluxDBTestServer) -> None:
        super().__init__("grpc+tcp://127.0.0.1:0", middleware={"auth": _AuthMiddlewareFactory(owner)})
        self.owner = owner

    def do_get(self, context: flight.ServerCallContext, ticket: flight.Ticket) -> flight.RecordBatchStream:
        try:
            request = json.loads(ticket.ticket.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise flight.FlightServerError(f"invalid ticket: {exc}") from exc
        self.owner.tickets.append(request)
        if request.get("query_type", "sql") != "sql":
            raise flight.FlightServerError("the test double runs SQL only (InfluxQL is not implemented)")
        database = request.get("database")
        if not database or database not in self.owner.store.databases():
            raise flight.FlightServerError(f"database not found: {database!r}")
        try:
            table = run_sql(self.owner.store, database, request.get("sql_query", ""), request.get("params"))
        except ValueError as exc:
            raise flight.FlightServerError(str(exc)) from exc
        return flight.RecordBatchStream(table)
