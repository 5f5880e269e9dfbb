"""The influxdb3 recipe's rules: every breaking change from influxdb-client 1.x to influxdb3-python."""

from __future__ import annotations

from fleetshift.model import Action
from fleetshift.recipes.base import Rule

V3_README = "https://github.com/InfluxCommunity/influxdb3-python#readme"
V3_CHANGELOG = "https://github.com/InfluxCommunity/influxdb3-python/blob/main/CHANGELOG.md"
MIGRATE = "https://docs.influxdata.com/influxdb3/core/get-started/migrate-from-influxdb-v1-v2/"
FLUX_FUTURE = "https://docs.influxdata.com/flux/v0/future-of-flux/"
SQL_DOCS = "https://docs.influxdata.com/influxdb3/core/query-data/sql/"

R = "influxdb3/"
RULES = (
    Rule(
        R + "import",
        "imports move from influxdb_client to influxdb_client_3",
        Action.AUTO,
        "InfluxDBClient -> InfluxDBClient3; Point, WritePrecision, WriteOptions, SYNCHRONOUS, PointSettings, "
        "WriteType and InfluxDBError come from influxdb_client_3; unused v2 imports are removed",
        V3_README,
    ),
    Rule(
        R + "client",
        "InfluxDBClient(url=, token=, org=, ...) -> InfluxDBClient3(host=, token=, database=, org=, ...)",
        Action.AUTO,
        "url -> host (scheme://host:port), positional arguments become keywords, database= is the "
        "bucket used by the writes/queries",
        V3_README,
    ),
    Rule(
        R + "timeout",
        "timeout= is not accepted by InfluxDBClient3",
        Action.AUTO,
        "timeout=T -> write_timeout=T, query_timeout=T (milliseconds)",
        V3_CHANGELOG,
        "0.16.0",
    ),
    Rule(
        R + "host-port",
        "influxdb3-python needs host as scheme://host:port",
        Action.HUMAN,
        "a missing port means 443 even for http:// and a URL path is dropped; make the configured URL explicit",
        V3_README,
    ),
    Rule(
        R + "database",
        "InfluxDBClient3 needs database= (required at construction on 0.21)",
        Action.HUMAN,
        "pass database=<bucket> to InfluxDBClient3",
        V3_CHANGELOG,
        "0.21.0",
    ),
    Rule(
        R + "from-env",
        "InfluxDBClient.from_env_properties() -> InfluxDBClient3.from_env()",
        Action.AUTO,
        "renamed; the environment variables change too (see env-vars)",
        V3_CHANGELOG,
        "0.13.0",
    ),
    Rule(
        R + "env-vars",
        "from_env() reads INFLUX_HOST/INFLUX_TOKEN/INFLUX_DATABASE, not INFLUXDB_V2_*",
        Action.HUMAN,
        "rename the variables in every deployment file and add INFLUX_DATABASE",
        V3_README,
    ),
    Rule(
        R + "from-config-file",
        "InfluxDBClient.from_config_file() has no equivalent",
        Action.HUMAN,
        "read the config with configparser and build InfluxDBClient3(host=, token=, org=, database=)",
        V3_README,
    ),
    Rule(
        R + "write",
        "write_api().write(bucket=, org=, record=) -> client.write(record=, database=)",
        Action.AUTO,
        "the write_api object collapses into the client; positional arguments become keywords",
        V3_README,
    ),
    Rule(
        R + "write-manual",
        "a write the recipe could not rewrite",
        Action.HUMAN,
        "call client.write(record=..., database=...) on the InfluxDBClient3",
        V3_README,
    ),
    Rule(
        R + "flush-close",
        "write_api.flush()/close() -> client.flush()",
        Action.AUTO,
        "client.flush() sends buffered writes (close() of the client closes everything)",
        V3_CHANGELOG,
        "0.17.0",
    ),
    Rule(
        R + "write-options",
        "write_api(write_options=WriteOptions(...), *_callback=) options move to the client",
        Action.AUTO,
        "InfluxDBClient3(write_client_options=write_client_options(write_options=..., "
        "success_callback=..., ...))",
        V3_README,
    ),
    Rule(
        R + "write-options-manual",
        "write options the recipe could not move",
        Action.HUMAN,
        "move them to InfluxDBClient3(write_client_options=write_client_options(...))",
        V3_README,
    ),
    Rule(
        R + "write-api-batching",
        "bare write_api() batched writes in influxdb-client; influxdb3-python writes "
        "synchronously by default",
        Action.INFO,
        "writes now block and raise; add write_client_options(write_options=WriteOptions()) to keep batching",
        V3_README,
    ),
    Rule(
        R + "write-async",
        "ASYNCHRONOUS writes are deprecated in influxdb3-python",
        Action.INFO,
        "prefer synchronous writes (asyncio.to_thread in coroutines)",
        V3_CHANGELOG,
    ),
    Rule(
        R + "default-tags",
        "default_tags/point_settings behave differently across 0.17-0.21",
        Action.HUMAN,
        "pin influxdb3-python>=0.21,<0.22 and pass point_settings=PointSettings(**tags), or tag each record",
        V3_CHANGELOG,
        "0.21.0",
    ),
    Rule(
        R + "query",
        "query_api().query(flux) -> client.query(sql, database=)",
        Action.AUTO,
        'the Flux text is translated to SQL (exact shapes only); query_data_frame -> mode="pandas"; '
        "query_stream -> rows of client.query(sql).to_pylist(); params= -> query_parameters=",
        SQL_DOCS,
    ),
    Rule(
        R + "query-manual",
        "a query call the recipe could not rewrite",
        Action.HUMAN,
        "call client.query(sql, database=...) on the InfluxDBClient3",
        SQL_DOCS,
    ),
    Rule(
        R + "flux",
        "Flux is not supported by InfluxDB 3",
        Action.HUMAN,
        "translate the query to SQL (the Finding carries a proposed SQL where there is one)",
        FLUX_FUTURE,
    ),
    Rule(
        R + "query-results",
        "FluxTable/FluxRecord readers -> rows of one Arrow table",
        Action.AUTO,
        "for table in tables: for record in table.records -> for record in tables.to_pylist(); get_value() -> "
        'record[field]; get_time() -> record["time"] made UTC-aware',
        SQL_DOCS,
    ),
    Rule(
        R + "query-results-manual",
        "result readers the recipe could not rewrite",
        Action.HUMAN,
        "read rows of the pyarrow.Table: time (tz-naive UTC), tags, one column per field",
        SQL_DOCS,
    ),
    Rule(
        R + "query-frame-shape",
        "query DataFrames have the InfluxDB 3 shape",
        Action.INFO,
        "time (tz-naive UTC), tags, one column per field; no result/table/_start/_stop",
        SQL_DOCS,
    ),
    Rule(
        R + "no-equivalent",
        "an influxdb-client API with no influxdb3-python equivalent",
        Action.HUMAN,
        "delete/buckets/orgs/users/authorizations/labels/tasks/scripts APIs, health/ready/ping/build, "
        "query_csv/query_raw: see the Finding for what to do instead",
        MIGRATE,
    ),
    Rule(
        R + "version",
        "client.version() -> client.get_server_version()",
        Action.AUTO,
        "renamed",
        V3_CHANGELOG,
        "0.15.0",
    ),
    Rule(
        R + "async-client",
        "influxdb3-python has no async client",
        Action.HUMAN,
        "use InfluxDBClient3 with await client.query_async(...) and asyncio.to_thread(client.write, ...)",
        V3_README,
    ),
    Rule(
        R + "exceptions",
        "ApiException / influxdb_client InfluxDBError -> influxdb_client_3.InfluxDBError",
        Action.AUTO,
        "write errors subclass influxdb_client_3.InfluxDBError; query errors are "
        "InfluxDB3ClientQueryError (catch InfluxDB3ClientError for both)",
        V3_CHANGELOG,
    ),
    Rule(
        R + "query-exceptions",
        "except ApiException around a query never catches influxdb3-python query errors",
        Action.HUMAN,
        "query errors are InfluxDB3ClientQueryError (no .status, not an InfluxDBError): catch it, or "
        "InfluxDB3ClientError for reads and writes, and check what the handler reads",
        V3_CHANGELOG,
    ),
    Rule(
        R + "unsupported-args",
        "InfluxDBClient3 has no profilers/auth_basic/username/password",
        Action.HUMAN,
        "remove them; authenticate with a token",
        V3_CHANGELOG,
        "0.20.0",
    ),
    Rule(
        R + "gzip-threshold",
        "gzip_threshold= crashes every write on influxdb3-python <0.21",
        Action.HUMAN,
        "pin influxdb3-python>=0.21,<0.22 or use enable_gzip=True without a threshold",
        V3_CHANGELOG,
        "0.21.0",
    ),
    Rule(
        R + "no-sync",
        "WriteOptions(no_sync=True) raises ValueError on 0.20+ unless the v3 write API is used",
        Action.HUMAN,
        "add write_use_v2_api=False (0.20+) or drop no_sync",
        V3_CHANGELOG,
        "0.20.0",
    ),
    Rule(
        R + "timeout-v3",
        "InfluxDBClient3(timeout=) raises TypeError on 0.17-0.20 and is ignored on 0.21",
        Action.HUMAN,
        "use write_timeout= and query_timeout= (milliseconds)",
        V3_CHANGELOG,
        "0.16.0",
    ),
)
