"""Names shared by detection and rewriting: the v3 counterparts of v2 names and the v2 APIs with none."""

from __future__ import annotations

V3 = "influxdb_client_3"
V3_NAMES = {
    "InfluxDBClient": "InfluxDBClient3",
    "Point": "Point",
    "WritePrecision": "WritePrecision",
    "WriteOptions": "WriteOptions",
    "SYNCHRONOUS": "SYNCHRONOUS",
    "ASYNCHRONOUS": "ASYNCHRONOUS",
    "PointSettings": "PointSettings",
    "WriteType": "WriteType",
    "InfluxDBError": "InfluxDBError",
    "ApiException": "InfluxDBError",
}
V3_EXPORTS = {*V3_NAMES.values(), "write_client_options"}
CLIENT_NO_EQUIVALENT = {
    "delete_api": "InfluxDB 3 has no predicate/time-range delete in the client; delete whole tables or databases "
    "with `influxdb3 delete table|database` (Core) or an ops step",
    "buckets_api": "buckets are databases on InfluxDB 3, created with their retention outside the client: "
    "`influxdb3 create database <db> --retention-period 30d` (or the HTTP database API) as an ops step; "
    "`retention_rules=` has no client equivalent",
    "organizations_api": "InfluxDB 3 has no organizations API in the client; manage it outside the service",
    "users_api": "InfluxDB 3 has no users API in the client; manage tokens with `influxdb3 create token`",
    "authorizations_api": "manage tokens with `influxdb3 create token` (ops step)",
    "labels_api": "InfluxDB 3 has no labels API; remove this use",
    "tasks_api": "Flux tasks do not exist on InfluxDB 3; use the Core Processing Engine (plugins) or a scheduler",
    "invokable_scripts_api": "invokable Flux scripts do not exist on InfluxDB 3; move the logic into SQL/service code",
    "health": "no health() in influxdb3-python; use `client.get_server_version()` (GET /ping) as a liveness probe",
    "ready": "no ready() in influxdb3-python; use `client.get_server_version()` (GET /ping) as a liveness probe",
    "build": "no build() in influxdb3-python; `client.get_server_version()` returns the version string",
    "ping": "no ping() in influxdb3-python: `try: client.get_server_version(); ok = True` "
    "`except Exception: ok = False` (unreachable servers raise)",
}
QUERY_NO_EQUIVALENT = {
    "query_csv": "no annotated-CSV output on InfluxDB 3: `client.query(sql).to_pandas().to_csv(...)` or "
    "`pyarrow.csv.write_csv(table, f)`; consumers of annotation rows must change",
    "query_raw": "no raw HTTP query response on InfluxDB 3 (Arrow Flight only): use `client.query(sql)`",
    "query_data_frame_stream": "use `for batch in client.query(sql, mode='reader'): df = batch.to_pandas()`",
}


def is_v2_module(mod: str) -> bool:
    """`influxdb_client` or one of its submodules (not `influxdb_client_3`)."""
    return mod == "influxdb_client" or mod.startswith("influxdb_client.")
