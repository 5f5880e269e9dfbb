"""influxdb3 recipe: rewrite cases with no-op twins, Findings for what needs a human, detection, pins."""

from __future__ import annotations

import pytest
from recipe_harness import Case, assert_noop, assert_rewrite, detect, rewrite, rewrite_files, rules_of

from fleetshift.model import Pin, Service, Severity
from fleetshift.recipes import get
from fleetshift.recipes.base import RewriteContext

R = "influxdb3"

# (before, after, rules of the Findings that come with it)
REWRITES = [
    pytest.param(
        """\
from influxdb_client import InfluxDBClient

client = InfluxDBClient(url="http://influxdb:8086", token="tok", org="home")
client.write_api().write(bucket="sensors", record="t v=1")
""",
        """\
from influxdb_client_3 import InfluxDBClient3

client = InfluxDBClient3(host="http://influxdb:8086", token="tok", database="sensors", org="home")
client.write(record="t v=1", database="sensors")
""",
        ["influxdb3/write-api-batching"],
        id="client",
    ),
    pytest.param(
        """\
from influxdb_client import InfluxDBClient

client = InfluxDBClient("http://influxdb", "tok", org="home")
""",
        """\
from influxdb_client_3 import InfluxDBClient3

client = InfluxDBClient3(host="http://influxdb:80", token="tok", org="home")
""",
        ["influxdb3/database"],
        id="positional",
    ),
    pytest.param(
        """\
from influxdb_client import InfluxDBClient

client = InfluxDBClient(url="https://influx.example.com", token="tok", timeout=30_000)
""",
        """\
from influxdb_client_3 import InfluxDBClient3

client = InfluxDBClient3(host="https://influx.example.com:443", token="tok", write_timeout=30_000, query_timeout=30_000)
""",
        ["influxdb3/database"],
        id="timeout",
    ),
    pytest.param(
        """\
from influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS


class Store:
    def __init__(self, url: str, token: str, bucket: str) -> None:
        self._client = InfluxDBClient(url=url, token=token)
        self._writer = self._client.write_api(write_options=SYNCHRONOUS)
        self._bucket = bucket

    def save(self, point) -> None:
        self._writer.write(self._bucket, record=point)

    def close(self) -> None:
        self._writer.close()
        self._client.close()
""",
        """\
from influxdb_client_3 import InfluxDBClient3


class Store:
    def __init__(self, url: str, token: str, bucket: str) -> None:
        self._client = InfluxDBClient3(host=url, token=token, database=bucket)
        self._bucket = bucket

    def save(self, point) -> None:
        self._client.write(record=point, database=self._bucket)

    def close(self) -> None:
        self._client.flush()
        self._client.close()
""",
        ["influxdb3/host-port"],
        id="selfattr",
    ),
    pytest.param(
        """\
from influxdb_client import InfluxDBClient

client = InfluxDBClient.from_env_properties()
""",
        """\
from influxdb_client_3 import InfluxDBClient3

client = InfluxDBClient3.from_env()
""",
        ["influxdb3/env-vars"],
        id="fromenv",
    ),
    pytest.param(
        """\
from influxdb_client import InfluxDBClient, WriteOptions

client = InfluxDBClient(url="http://localhost:8086", token="t")
writer = client.write_api(write_options=WriteOptions(batch_size=100, flush_interval=5_000), error_callback=print)
writer.write(bucket="b", record="m v=1i")
writer.flush()
""",
        """\
from influxdb_client_3 import InfluxDBClient3, WriteOptions, write_client_options

client = InfluxDBClient3(host="http://localhost:8086", token="t", database="b", write_client_options=write_client_options(write_options=WriteOptions(batch_size=100, flush_interval=5_000), error_callback=print))
client.write(record="m v=1i", database="b")
client.flush()
""",
        [],
        id="batching",
    ),
    pytest.param(
        """\
from influxdb_client import InfluxDBClient, Point


def save(client: InfluxDBClient, value: float) -> None:
    with client.write_api() as w:
        w.write(bucket="b", record=Point("m").field("v", value))
""",
        """\
from influxdb_client_3 import InfluxDBClient3, Point


def save(client: InfluxDBClient3, value: float) -> None:
    client.write(record=Point("m").field("v", value), database="b")
""",
        ["influxdb3/write-api-batching"],
        id="with",
    ),
    pytest.param(
        """\
from influxdb_client import InfluxDBClient

FLUX = 'from(bucket: "b") |> range(start: -1h) |> filter(fn: (r) => r._measurement == "cpu" and r._field == "usage")'


def read(client: InfluxDBClient) -> list:
    tables = client.query_api().query(FLUX)
    out = []
    for table in tables:
        for record in table.records:
            out.append((record.get_time(), record["host"], record.get_value()))
    return out
""",
        """\
from datetime import timezone
from influxdb_client_3 import InfluxDBClient3

FLUX = "SELECT * FROM cpu WHERE time >= now() - INTERVAL '1 hour' AND time < now() AND usage IS NOT NULL ORDER BY time"


def read(client: InfluxDBClient3) -> list:
    tables = client.query(FLUX, database="b")
    out = []
    for record in tables.to_pylist():
        out.append((record["time"].replace(tzinfo=timezone.utc), record["host"], record["usage"]))
    return out
""",
        [],
        id="query",
    ),
    pytest.param(
        """\
from influxdb_client import InfluxDBClient


def frame(client: InfluxDBClient):
    df = client.query_api().query_data_frame('from(bucket: "b") |> range(start: -1h) |> filter(fn: (r) => r._measurement == "cpu" and r._field == "usage")')
    return df["_value"].mean()
""",
        """\
from influxdb_client_3 import InfluxDBClient3


def frame(client: InfluxDBClient3):
    df = client.query("SELECT * FROM cpu WHERE time >= now() - INTERVAL '1 hour' AND time < now() AND usage IS NOT NULL ORDER BY time", database="b", mode="pandas")
    return df["usage"].mean()
""",
        ["influxdb3/query-frame-shape"],
        id="frame",
    ),
    pytest.param(
        """\
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.rest import ApiException


def save(client, record) -> bool:
    try:
        client.write_api(write_options=SYNCHRONOUS).write(bucket="b", record=record)
    except ApiException:
        return False
    return True
""",
        """\
from influxdb_client_3 import InfluxDBError


def save(client, record) -> bool:
    try:
        client.write(record=record, database="b")
    except InfluxDBError:
        return False
    return True
""",
        [],
        id="exc",
    ),
]


@pytest.mark.parametrize(("before", "after", "finding_rules"), REWRITES)
def test_rewrite(before: str, after: str, finding_rules: list[str]) -> None:
    findings = assert_rewrite(R, before, after, path="svc/app/mod.py")
    assert sorted(rules_of(findings)) == finding_rules


NOOPS = {
    "already-v3": """\
from influxdb_client_3 import InfluxDBClient3, Point

client = InfluxDBClient3(host="http://influxdb:8181", token="t", database="home")
client.write(record=Point("m").field("v", 1.0), database="home")
table = client.query("SELECT * FROM m", database="home")
for row in table.to_pylist():
    print(row["time"], row["v"])
""",
    "lookalike-write": """\
def save(storage, blob):
    storage.write(bucket="photos", record=blob)
    storage.query_api().query("from(bucket: 'x')")
""",
    "other-influx-lib": """\
from influxdb import InfluxDBClient

client = InfluxDBClient(host="localhost", port=8086)
client.write_points([{"measurement": "m", "fields": {"v": 1}}])
""",
    "config-file": """\
from influxdb_client import InfluxDBClient

client = InfluxDBClient.from_config_file("config.ini")
""",
    "async-client": """\
from influxdb_client.client.influxdb_client_async import InfluxDBClientAsync


async def main() -> None:
    async with InfluxDBClientAsync(url="http://localhost:8086", token="t", org="o") as client:
        await client.write_api().write(bucket="b", record="m v=1")
""",
    "untranslatable-flux": """\
import influxdb_client


def latest(client):
    return client.query_api().query('from(bucket: "b") |> range(start: -1h) |> filter(fn: (r) => r._measurement == "cpu") |> last()')
""",
}


@pytest.mark.parametrize("source", NOOPS.values(), ids=NOOPS.keys())
def test_noop(source: str) -> None:
    assert_noop(R, source, path="svc/app/mod.py")


# (source, rules of the Findings a human must handle) -- the sites themselves are left unchanged
FINDINGS = {
    "config-file": (NOOPS["config-file"], {"influxdb3/from-config-file", "influxdb3/import-manual"}),
    "async-client": (NOOPS["async-client"], {"influxdb3/async-client", "influxdb3/import-manual"}),
    "untranslatable-flux": (NOOPS["untranslatable-flux"], {"influxdb3/flux", "influxdb3/import-manual"}),
    "no-equivalent": (
        """\
from influxdb_client import InfluxDBClient

client = InfluxDBClient(url="http://localhost:8086", token="t")
client.buckets_api().create_bucket(bucket_name="b")
client.delete_api().delete("1970-01-01T00:00:00Z", "2030-01-01T00:00:00Z", "", bucket="b", org="o")
healthy = client.health()
csv = client.query_api().query_csv('from(bucket: "b") |> range(start: -1h)')
""",
        {"influxdb3/no-equivalent"},
    ),
    "host-path-and-profilers": (
        """\
from influxdb_client import InfluxDBClient

client = InfluxDBClient(url="http://proxy:8080/influx", token="t", profilers=["query"])
""",
        {"influxdb3/host-port", "influxdb3/unsupported-args", "influxdb3/database"},
    ),
    "default-tags-and-basic-auth": (
        """\
from influxdb_client import InfluxDBClient

client = InfluxDBClient(url="http://h:8086", username="u", password="p", default_tags={"site": "x"})
client.write_api(point_settings=None).write(bucket="b", record="m v=1")
""",
        {"influxdb3/unsupported-args", "influxdb3/default-tags"},
    ),
    "options-without-constructor": (
        """\
from influxdb_client import WriteOptions


def writer(client):
    return client.write_api(write_options=WriteOptions(batch_size=10))
""",
        {"influxdb3/write-manual"},
    ),
    "options-constructor-elsewhere": (
        """\
from influxdb_client import WriteOptions


def save(client, record):
    client.write_api(write_options=WriteOptions(batch_size=10)).write(bucket="b", record=record)
""",
        {"influxdb3/write-options-manual"},
    ),
    "results-passed-on": (
        """\
from influxdb_client import InfluxDBClient


def fetch(client: InfluxDBClient):
    return client.query_api().query('from(bucket: "b") |> range(start: -1h) |> filter(fn: (r) => r._measurement == "cpu")')
""",
        {"influxdb3/query-results-manual"},
    ),
    "record-used-whole": (
        """\
from influxdb_client import InfluxDBClient


def fetch(client: InfluxDBClient):
    q = 'from(bucket: "b") |> range(start: -1h) |> filter(fn: (r) => r._measurement == "cpu" and r._field == "v")'
    for table in client.query_api().query(q):
        for record in table.records:
            print(record.values)
""",
        {"influxdb3/query-results-manual"},
    ),
    "unknown-database": (
        """\
from influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS


def save(url, token, bucket_for, record):
    client = InfluxDBClient(url=url, token=token)
    client.write_api(write_options=SYNCHRONOUS).write(bucket=bucket_for(record), record=record)
""",
        {"influxdb3/database", "influxdb3/host-port"},
    ),
}


@pytest.mark.parametrize(("source", "expected"), FINDINGS.values(), ids=FINDINGS.keys())
def test_findings(source: str, expected: set[str]) -> None:
    _new, findings = rewrite(R, source, path="svc/app/mod.py")
    assert rules_of(findings) == expected
    for f in findings:
        assert f.file == "svc/app/mod.py" and f.line > 0 and f.link
        if get(R).rule(f.rule).action.value == "human":
            assert f.severity is Severity.HUMAN


def test_untranslated_query_leaves_call_and_proposes_sql() -> None:
    new, findings = rewrite(R, NOOPS["untranslatable-flux"], path="svc/app/mod.py")
    (f,) = [f for f in findings if f.rule == "influxdb3/flux"]
    assert "Proposed SQL:" in f.message and "ORDER BY time DESC LIMIT 1" in f.message
    assert "query_api().query(" in new


def test_unmovable_options_keep_the_write_api() -> None:
    source = FINDINGS["options-without-constructor"][0]
    new, _ = rewrite(R, source, path="svc/app/mod.py")
    assert "write_api(write_options=WriteOptions(batch_size=10))" in new


def test_query_stream_params_and_f_string() -> None:
    before = """\
from influxdb_client import InfluxDBClient


def read(client: InfluxDBClient, host: str, hours: int):
    records = client.query_api().query_stream(
        f'from(bucket: "b") |> range(start: -{hours}h) |> filter(fn: (r) => r._measurement == "cpu" and r._field == "usage" and r.host == params.host)',
        params={"host": host},
    )
    for rec in records:
        print(rec["_time"], rec.get_value(), rec.values.get("region"), rec.get_field())
"""
    after = """\
from datetime import timezone
from influxdb_client_3 import InfluxDBClient3


def read(client: InfluxDBClient3, host: str, hours: int):
    records = client.query(
        f"SELECT * FROM cpu WHERE time >= now() - INTERVAL '{hours} hours' AND time < now() AND usage IS NOT NULL AND host = $host ORDER BY time",
        database="b",
        query_parameters={"host": host},
    ).to_pylist()
    for rec in records:
        print(rec["time"].replace(tzinfo=timezone.utc), rec["usage"], rec.get("region"), "usage")
"""
    assert assert_rewrite(R, before, after, path="svc/app/mod.py") == []


def test_comprehension_over_tables() -> None:
    before = """\
from influxdb_client import InfluxDBClient


def values(client: InfluxDBClient) -> list:
    tables = client.query_api().query('from(bucket: "b") |> range(start: -1h) |> filter(fn: (r) => r._measurement == "cpu" and r._field == "usage")')
    return [record.get_value() for table in tables for record in table.records if record["host"] == "a"]
"""
    after = """\
from influxdb_client_3 import InfluxDBClient3


def values(client: InfluxDBClient3) -> list:
    tables = client.query("SELECT * FROM cpu WHERE time >= now() - INTERVAL '1 hour' AND time < now() AND usage IS NOT NULL ORDER BY time", database="b")
    return [record["usage"] for record in tables.to_pylist() if record["host"] == "a"]
"""
    assert_rewrite(R, before, after, path="svc/app/mod.py")


def test_version_and_ping() -> None:
    before = """\
from influxdb_client import InfluxDBClient

client = InfluxDBClient.from_env_properties()
print(client.version())
ok = client.ping()
"""
    after = """\
from influxdb_client_3 import InfluxDBClient3

client = InfluxDBClient3.from_env()
print(client.get_server_version())
ok = client.ping()
"""
    findings = assert_rewrite(R, before, after, path="svc/app/mod.py")
    assert rules_of(findings) == {"influxdb3/env-vars", "influxdb3/no-equivalent"}
    env = next(f for f in findings if f.rule == "influxdb3/env-vars")
    assert "INFLUXDB_V2_URL -> INFLUX_HOST" in env.message and "INFLUX_DATABASE" in env.message


def test_single_service_bucket_fills_database_across_files() -> None:
    files = {
        "svc/app/db.py": """\
from influxdb_client import InfluxDBClient

client = InfluxDBClient(url="http://influxdb:8086", token="t")
""",
        "svc/app/writer.py": """\
from influxdb_client.client.write_api import SYNCHRONOUS


def save(client, record):
    client.write_api(write_options=SYNCHRONOUS).write(bucket="home", record=record)
""",
    }
    new, findings = rewrite_files(R, files)
    assert 'InfluxDBClient3(host="http://influxdb:8086", token="t", database="home")' in new["svc/app/db.py"]
    assert 'client.write(record=record, database="home")' in new["svc/app/writer.py"]
    assert "influxdb3/database" not in rules_of(findings)


HOLE_NAMED_BEFORE = """\
from influxdb_client import InfluxDBClient


def series(client: InfluxDBClient, measurement: str, field: str, hours: int):
    flux = f'from(bucket: "home") |> range(start: -{hours}h) |> filter(fn: (r) => r._measurement == "{measurement}" and r._field == "{field}")'
    out = []
    for table in client.query_api().query(flux):
        for record in table.records:
            out.append((record.get_measurement(), record.values["entity_id"], record.get_value()))
    return out
"""

HOLE_NAMED_AFTER = """\
from influxdb_client_3 import InfluxDBClient3


def series(client: InfluxDBClient3, measurement: str, field: str, hours: int):
    flux = f\"\"\"SELECT * FROM "{measurement}" WHERE time >= now() - INTERVAL '{hours} hours' AND time < now() AND "{field}" IS NOT NULL ORDER BY time\"\"\"
    out = []
    for record in client.query(flux, database="home").to_pylist():
        out.append((measurement, record["entity_id"], record[field]))
    return out
"""


def test_measurement_and_field_named_by_f_string_placeholders() -> None:
    """The field column (`get_value()`) and the measurement are the placeholders' values: the readers use
    the placeholder expressions, not the text of the placeholder."""
    assert assert_rewrite(R, HOLE_NAMED_BEFORE, HOLE_NAMED_AFTER, path="svc/app/q.py") == []
    assert_noop(R, HOLE_NAMED_AFTER, path="svc/app/q.py")


SETTINGS_WRITER = """\
from influxdb_client.client.write_api import SYNCHRONOUS


class Ingest:
    def __init__(self, settings, influx):
        self.settings = settings
        self.write_api = influx.write_api(write_options=SYNCHRONOUS)

    def store(self, line):
        self.write_api.write(bucket=self.settings.influx_bucket, record=line)
"""


def test_database_comes_from_the_settings_object_the_url_comes_from() -> None:
    """The client is built in another file (a conftest, a __main__) from the same settings object whose
    bucket the writes use: InfluxDBClient3 gets database=settings.influx_bucket (required on 0.21)."""
    files = {
        "svc/app/ingest.py": SETTINGS_WRITER,
        "svc/tests/conftest.py": """\
from influxdb_client import InfluxDBClient


def make(settings):
    return InfluxDBClient(url=settings.influx_url, token=settings.influx_token, org=settings.influx_org)
""",
    }
    new, findings = rewrite_files(R, files)
    assert (
        "InfluxDBClient3(host=settings.influx_url, token=settings.influx_token, "
        "database=settings.influx_bucket, org=settings.influx_org)"
    ) in new["svc/tests/conftest.py"]
    assert (
        "self.write_api.write(record=line, database=self.settings.influx_bucket)" in new["svc/app/ingest.py"]
    )
    assert "influxdb3/database" not in rules_of(findings)


@pytest.mark.parametrize(
    "ctor",
    [
        "InfluxDBClient(url=config.url, token=config.token)",  # another object than `settings`
        "InfluxDBClient(url=settings.influx_url, token=secrets.token)",  # URL and token from different objects
        "InfluxDBClient(url=URL, token=settings.influx_token)",  # URL not read from an object
    ],
    ids=["other-holder", "mixed-holders", "plain-url"],
)
def test_database_not_guessed_from_other_objects(ctor: str) -> None:
    files = {
        "svc/app/ingest.py": SETTINGS_WRITER,
        "svc/app/main.py": f"from influxdb_client import InfluxDBClient\n\nURL = 'http://h:8181'\nclient = {ctor}\n",
    }
    new, findings = rewrite_files(R, files)
    assert "database=" not in new["svc/app/main.py"]
    assert "influxdb3/database" in rules_of(findings)


# ---- version traps on already-migrated code ------------------------------------------------------------

TRAPS = """\
from influxdb_client_3 import InfluxDBClient3, WriteOptions, write_client_options

client = InfluxDBClient3(host="http://localhost", token="t", database="d", timeout=1000, gzip_threshold=100, default_tags={"a": "b"})
opts = write_client_options(write_options=WriteOptions(no_sync=True))
"""

TRAPS_OK = (
    TRAPS.replace(', timeout=1000, gzip_threshold=100, default_tags={"a": "b"}', "")
    .replace("http://localhost", "http://localhost:8181")
    .replace("no_sync=True", "no_sync=True, use_v2_api=False")
)


def test_traps_are_findings_not_rewrites() -> None:
    findings = assert_noop(R, TRAPS, path="svc/app/mod.py")
    assert rules_of(findings) == {
        "influxdb3/gzip-threshold",
        "influxdb3/timeout-v3",
        "influxdb3/default-tags",
        "influxdb3/host-port",
        "influxdb3/no-sync",
    }
    assert rules_of(assert_noop(R, TRAPS_OK, path="svc/app/mod.py")) == set()


# ---- detection ------------------------------------------------------------------------------------------


def test_detect_old_api_sites() -> None:
    source = FINDINGS["no-equivalent"][0] + REWRITES[7].values[0].split("\n", 1)[1]
    sites = detect(R, source, path="svc/app/mod.py")
    assert {"influxdb3/import", "influxdb3/client", "influxdb3/no-equivalent", "influxdb3/query"} <= rules_of(
        sites
    )
    human = {s.rule for s in sites if s.action.value == "human"}
    # the query_csv Flux has no measurement, and a query_api() used for query_csv is not rewritten
    assert human == {"influxdb3/no-equivalent", "influxdb3/flux", "influxdb3/query-manual"}


def test_detect_flags_untranslatable_flux_and_async() -> None:
    assert "influxdb3/flux" in rules_of(detect(R, NOOPS["untranslatable-flux"], path="svc/app/mod.py"))
    assert "influxdb3/async-client" in rules_of(detect(R, NOOPS["async-client"], path="svc/app/mod.py"))
    assert "influxdb3/from-config-file" in rules_of(detect(R, NOOPS["config-file"], path="svc/app/mod.py"))


@pytest.mark.parametrize("before", [p.values[0] for p in REWRITES], ids=[p.id for p in REWRITES])
def test_migrated_code_has_no_old_sites(before: str) -> None:
    after, _ = rewrite(R, before, path="svc/app/mod.py")
    sites = detect(R, after, path="svc/app/mod.py")
    assert not [
        s for s in sites if s.action.value in ("auto", "human") and s.rule not in ("influxdb3/host-port",)
    ]


def test_detect_nothing_in_lookalikes() -> None:
    for key in ("already-v3", "lookalike-write", "other-influx-lib"):
        assert detect(R, NOOPS[key], path="svc/app/mod.py") == []


# ---- pins and coverage -------------------------------------------------------------------------------------


def _ctx(files: dict[str, str], pins: tuple[Pin, ...] = ()) -> RewriteContext:
    return RewriteContext(service=Service(name="svc", path="svc"), targets={}, files=files)


def test_pin_changes_replace_the_package_and_keep_pandas_when_used() -> None:
    recipe = get(R)
    plain = recipe.pin_changes(
        _ctx({"svc/a.py": "from influxdb_client import Point\n"}), {"influxdb-client": "==1.50.0"}
    )
    assert [(c.package, c.new_package, c.new_spec) for c in plain] == [
        ("influxdb-client", "influxdb3-python", ">=0.17.0,<1")
    ]
    frames = recipe.pin_changes(
        _ctx({"svc/a.py": "import influxdb_client\ndf = q.query_data_frame('...')\n"}),
        {"influxdb-client": "==1.50.0"},
    )
    assert frames[0].new_package == "influxdb3-python[pandas]"
    rows = recipe.pin_changes(
        _ctx({"svc/a.py": "from influxdb_client import InfluxDBClient\ntables = c.query_api().query(q)\n"}),
        {"influxdb-client": "==1.50.0"},
    )
    assert rows[0].new_package == "influxdb3-python[pandas]"  # rows' ns timestamps convert only via pandas
    assert recipe.pin_changes(_ctx({}), {"requests": "==2"}) == []


def test_recipe_data() -> None:
    recipe = get(R)
    assert recipe is get("influxdb-client") is get("influxdb3-python")
    assert recipe.is_old("influxdb-client", "==1.50.0") is True
    assert recipe.is_old("influxdb3-python", "==0.21.0") is False
    assert any(a.versions == "<0.21" for a in recipe.advisories)


def test_write_manual_and_async_findings() -> None:
    source = """\
from influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import ASYNCHRONOUS

client = InfluxDBClient(url="http://h:8086", token="t")
w = client.write_api(write_options=ASYNCHRONOUS)
w.write(**{"bucket": "b", "record": "m v=1"})
"""
    _new, findings = rewrite(R, source, path="svc/app/mod.py")
    assert {"influxdb3/write-manual", "influxdb3/write-async"} <= rules_of(findings)


def test_query_manual_finding() -> None:
    source = """\
from influxdb_client import InfluxDBClient


def run(client: InfluxDBClient, q):
    return client.query_api().query(q, dialect=None)
"""
    new, findings = rewrite(R, source, path="svc/app/mod.py")
    assert "influxdb3/query-manual" in rules_of(findings)
    assert "query_api().query(q, dialect=None)" in new


# ---- check on migrated code: what a human still has to do stays visible ---------------------------------

PURGE = """\
from datetime import datetime, timezone

from influxdb_client import InfluxDBClient


def purge(client: InfluxDBClient, bucket: str, org: str, cutoff: datetime) -> None:
    client.delete_api().delete(
        start=datetime(1970, 1, 1, tzinfo=timezone.utc), stop=cutoff, predicate='_measurement="m"', bucket=bucket, org=org
    )
"""
FROM_ENV = """\
\"\"\"The job; InfluxDB settings come from INFLUXDB_V2_* variables.\"\"\"

from influxdb_client import InfluxDBClient


def make_client(**kwargs) -> InfluxDBClient:
    return InfluxDBClient.from_env_properties(**kwargs)


def alive() -> bool:
    with make_client() as client:
        return client.ready() is not None
"""
SERVICE_CLIENT = """\
from influxdb_client import InfluxDBClient


class Store:
    def __init__(self, client: InfluxDBClient) -> None:
        self._client = client

    def healthy(self) -> bool:
        return self._client.health().status == "pass"

    def buckets(self):
        return self._client.buckets_api().find_buckets()
"""


@pytest.mark.parametrize(
    ("before", "human"),
    [
        (PURGE, {(7, "influxdb3/no-equivalent")}),
        (FROM_ENV, {(7, "influxdb3/env-vars"), (12, "influxdb3/no-equivalent")}),
        (SERVICE_CLIENT, {(9, "influxdb3/no-equivalent"), (12, "influxdb3/no-equivalent")}),
    ],
    ids=["delete-api", "from-env", "attribute-client"],
)
def test_human_sites_stay_reported_after_the_rewrite(before: str, human: set[tuple[int, str]]) -> None:
    """`check` keys on v3 clients too: a delete_api()/health()/ready() left on an InfluxDBClient3 and the
    env-var rename of from_env() are reported before and after the migration, on the same lines."""
    path = "svc/app/mod.py"
    sites = detect(R, before, path=path)
    assert {(s.line, s.rule) for s in sites if s.action.value == "human"} == human
    after, findings = rewrite(R, before, path=path)
    assert "influxdb_client_3" in after and "from influxdb_client " not in after
    assert {(f.line, f.rule) for f in findings} >= human
    left = detect(R, after, path=path)
    assert {(s.line, s.rule) for s in left} == human
    assert all(s.action.value == "human" for s in left)
    _again, rerun = rewrite(R, after, path=path)  # a second run over migrated code reports them as Findings
    assert {(f.line, f.rule) for f in rerun} == human


CORRECT_V3 = {
    "from-env": """\
from influxdb_client_3 import InfluxDBClient3

client = InfluxDBClient3.from_env()
print(client.get_server_version())
""",
    "f-string-host": """\
from influxdb_client_3 import InfluxDBClient3


def make(host: str, port: int, token: str) -> InfluxDBClient3:
    return InfluxDBClient3(host=f"http://{host}:{port}", token=token, database="d")
""",
    "service-methods": """\
from influxdb_client_3 import InfluxDBClient3


class Store:
    def __init__(self, client: InfluxDBClient3) -> None:
        self.client = client

    def health(self) -> dict:
        return {}


def probe(store: Store, other):
    return store.health(), other.ping(), other.ready()
""",
}


@pytest.mark.parametrize("source", CORRECT_V3.values(), ids=CORRECT_V3.keys())
def test_correct_v3_code_yields_nothing(source: str) -> None:
    assert detect(R, source, path="svc/app/mod.py") == []
    assert assert_noop(R, source, path="svc/app/mod.py") == []


def test_v3_client_traps_and_leftover_factories() -> None:
    source = """\
from influxdb_client_3 import InfluxDBClient3

client = InfluxDBClient3(host=f"http://{HOST}", token="t", database="d")
other = InfluxDBClient3(host="http://localhost", token="t", database="d")
client.write_api().write(bucket="d", record="m v=1")
print(client.query_api().query_csv("..."), client.ping())
"""
    sites = {(s.line, s.rule) for s in detect(R, source, path="svc/app/mod.py")}
    assert sites == {
        (4, "influxdb3/host-port"),  # no port; the f-string one may carry it in HOST
        (5, "influxdb3/write-manual"),
        (6, "influxdb3/query-manual"),
        (6, "influxdb3/no-equivalent"),  # query_csv() on a query_api object, ping() on the client
    }
    assert (
        len([s for s in detect(R, source, path="svc/app/mod.py") if s.rule == "influxdb3/no-equivalent"]) == 2
    )


# ---- no false positives: the service's own methods, f-string hosts with scheme and port ------------------

OWN_HEALTH = """\
from influxdb_client import InfluxDBClient

from app.storage import Store


def test_store():
    with InfluxDBClient(url=f"http://127.0.0.1:{free_port()}", token="t", org="o") as client:
        store = Store(client, bucket="b")
        assert store.health() == {"last_write_attempts": 3}
        assert client.health() is not None
"""


def test_only_client_receivers_are_flagged() -> None:
    """`store.health()` is the service's own method; `client.health()` is the influxdb client's."""
    sites = [
        s
        for s in detect(R, OWN_HEALTH, path="svc/tests/test_store.py")
        if s.rule == "influxdb3/no-equivalent"
    ]
    assert [s.line for s in sites] == [10]
    _new, findings = rewrite(R, OWN_HEALTH, path="svc/tests/test_store.py")
    assert [f.line for f in findings if f.rule == "influxdb3/no-equivalent"] == [10]


@pytest.mark.parametrize(
    ("url", "flagged"),
    [
        ('f"http://127.0.0.1:{free_port()}"', False),
        ('f"https://{host}:{port}"', False),
        ('f"http://{host}:8086"', False),
        ('f"http://{host}"', True),  # the port may or may not be in `host`
        ('f"{scheme}://{host}"', True),
        ('f"http://{host}:{port}/influx"', True),  # the path is dropped
        ("url", True),
    ],
)
def test_host_port_finding_for_f_strings(url: str, flagged: bool) -> None:
    source = f"""\
from influxdb_client import InfluxDBClient


def make(url, host, port, scheme):
    return InfluxDBClient(url={url}, token="t", org="o")
"""
    _new, findings = rewrite(R, source, path="svc/app/mod.py")
    assert ("influxdb3/host-port" in rules_of(findings)) is flagged


# ---- ApiException around queries: InfluxDBError never catches a query error ------------------------------

QUERY_GUARD = """\
from influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.rest import ApiException

FLUX = 'from(bucket: "b") |> range(start: -1h) |> filter(fn: (r) => r._measurement == "cpu" and r._field == "usage")'


def latest(client: InfluxDBClient) -> list:
    try:
        tables = client.query_api().query(FLUX)
    except ApiException as exc:
        if exc.status == 404:
            return []
        raise
    return [record.get_value() for table in tables for record in table.records]


def save(client: InfluxDBClient, record) -> bool:
    try:
        client.write_api(write_options=SYNCHRONOUS).write(bucket="b", record=record)
    except ApiException:
        return False
    return True


def alive(client: InfluxDBClient) -> bool:
    try:
        return bool(latest(client))
    except ApiException:
        return False
"""

QUERY_GUARD_AFTER = """\
from influxdb_client_3 import InfluxDBClient3, InfluxDBError
from influxdb_client.rest import ApiException

FLUX = "SELECT * FROM cpu WHERE time >= now() - INTERVAL '1 hour' AND time < now() AND usage IS NOT NULL ORDER BY time"


def latest(client: InfluxDBClient3) -> list:
    try:
        tables = client.query(FLUX, database="b")
    except ApiException as exc:
        if exc.status == 404:
            return []
        raise
    return [record["usage"] for record in tables.to_pylist()]


def save(client: InfluxDBClient3, record) -> bool:
    try:
        client.write(record=record, database="b")
    except InfluxDBError:
        return False
    return True


def alive(client: InfluxDBClient3) -> bool:
    try:
        return bool(latest(client))
    except ApiException:
        return False
"""


def test_api_exception_guarding_queries_is_a_finding() -> None:
    """The write handler becomes InfluxDBError; the query handler and the one around a helper of a module
    that queries stay ApiException (with their import) and are Findings; `check` keeps reporting them."""
    findings = assert_rewrite(R, QUERY_GUARD, QUERY_GUARD_AFTER, path="svc/app/mod.py")
    guards = sorted(f.line for f in findings if f.rule == "influxdb3/query-exceptions")
    assert guards == [11, 29]  # lines of the file as it was
    assert all(
        "InfluxDB3ClientQueryError" in f.message for f in findings if f.rule.endswith("query-exceptions")
    )
    before = {(s.line, s.rule) for s in detect(R, QUERY_GUARD, path="svc/app/mod.py")}
    assert {
        (11, "influxdb3/query-exceptions"),
        (21, "influxdb3/exceptions"),
        (29, "influxdb3/query-exceptions"),
    } <= before
    assert (3, "influxdb3/import") not in before  # the ApiException import goes with its handlers
    after = {(s.line, s.rule) for s in detect(R, QUERY_GUARD_AFTER, path="svc/app/mod.py")}
    assert after == {(10, "influxdb3/query-exceptions"), (28, "influxdb3/query-exceptions")}


def test_api_exception_in_a_module_without_queries_is_renamed() -> None:
    source = """\
import pytest
from influxdb_client.rest import ApiException

from app.store import save


def test_refused(store):
    with pytest.raises(ApiException):
        save(store, "m v=1")
"""
    findings = assert_rewrite(
        R,
        source,
        source.replace(
            "influxdb_client.rest import ApiException", "influxdb_client_3 import InfluxDBError"
        ).replace("raises(ApiException)", "raises(InfluxDBError)"),
        path="svc/tests/test_x.py",
    )
    assert findings == []
    query_test = source.replace('save(store, "m v=1")', "store.query_api().query(FLUX)")
    new, findings = rewrite(R, query_test, path="svc/tests/test_x.py")
    assert "pytest.raises(ApiException)" in new
    assert rules_of(findings) >= {"influxdb3/query-exceptions"}


# what the flagged sources above become: the rest of the file is migrated, the flagged sites stay
FLAGGED_AFTER = {
    "options-without-constructor": """\
from influxdb_client_3 import WriteOptions


def writer(client):
    return client.write_api(write_options=WriteOptions(batch_size=10))
""",
    "unknown-database": """\
from influxdb_client_3 import InfluxDBClient3


def save(url, token, bucket_for, record):
    client = InfluxDBClient3(host=url, token=token)
    client.write(record=record, database=bucket_for(record))
""",
    "options-constructor-elsewhere": """\
from influxdb_client_3 import WriteOptions


def save(client, record):
    client.write_api(write_options=WriteOptions(batch_size=10)).write(record=record, database="b")
""",
    "default-tags-and-basic-auth": """\
from influxdb_client_3 import InfluxDBClient3

client = InfluxDBClient3(host="http://h:8086", database="b", username="u", password="p", default_tags={"site": "x"})
client.write_api(point_settings=None).write(record="m v=1", database="b")
""",
    "results-passed-on": """\
from influxdb_client_3 import InfluxDBClient3


def fetch(client: InfluxDBClient3):
    return client.query_api().query('from(bucket: "b") |> range(start: -1h) |> filter(fn: (r) => r._measurement == "cpu")')
""",
    "no-equivalent": """\
from influxdb_client_3 import InfluxDBClient3

client = InfluxDBClient3(host="http://localhost:8086", token="t", database="b")
client.buckets_api().create_bucket(bucket_name="b")
client.delete_api().delete("1970-01-01T00:00:00Z", "2030-01-01T00:00:00Z", "", bucket="b", org="o")
healthy = client.health()
csv = client.query_api().query_csv('from(bucket: "b") |> range(start: -1h)')
""",
    "host-path-and-profilers": """\
from influxdb_client_3 import InfluxDBClient3

client = InfluxDBClient3(host="http://proxy:8080", token="t", profilers=["query"])
""",
}


# ---- cases keyed by rule (run by test_rule_cases.py): each rule's positive case and its no-op twin ---------


def _rewritten(rule: str, case_id: str) -> Case:
    before, after, findings = next(p.values for p in REWRITES if p.id == case_id)
    return Case(rule, before, after, findings=tuple(findings), name=case_id)


def _flagged(rule: str, key: str) -> Case:
    return Case(rule, FINDINGS[key][0], FLAGGED_AFTER.get(key), findings=(rule,), name=key)


def _twin(rule: str, source: str, name: str) -> Case:
    return Case(rule, source, name=name)


V3 = NOOPS["already-v3"]
ASYNC_WRITE = """\
from influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import ASYNCHRONOUS

client = InfluxDBClient(url="http://h:8086", token="t")
w = client.write_api(write_options=ASYNCHRONOUS)
w.write(bucket="b", record="m v=1")
"""
ASYNC_WRITE_AFTER = """\
from influxdb_client_3 import ASYNCHRONOUS, InfluxDBClient3, write_client_options

client = InfluxDBClient3(host="http://h:8086", token="t", database="b", write_client_options=write_client_options(write_options=ASYNCHRONOUS))
client.write(record="m v=1", database="b")
"""
QUERY_MANUAL = """\
from influxdb_client import InfluxDBClient


def run(client: InfluxDBClient, q):
    return client.query_api().query(q, dialect=None)
"""
VERSION = """\
from influxdb_client import InfluxDBClient

client = InfluxDBClient.from_env_properties()
print(client.version())
"""
VERSION_AFTER = """\
from influxdb_client_3 import InfluxDBClient3

client = InfluxDBClient3.from_env()
print(client.get_server_version())
"""
TABLES = """\
from influxdb_client import InfluxDBClient


def values(client: InfluxDBClient) -> list:
    tables = client.query_api().query('from(bucket: "b") |> range(start: -1h) |> filter(fn: (r) => r._measurement == "cpu" and r._field == "usage")')
    return [record.get_value() for table in tables for record in table.records]
"""
TABLES_AFTER = """\
from influxdb_client_3 import InfluxDBClient3


def values(client: InfluxDBClient3) -> list:
    tables = client.query("SELECT * FROM cpu WHERE time >= now() - INTERVAL '1 hour' AND time < now() AND usage IS NOT NULL ORDER BY time", database="b")
    return [record["usage"] for record in tables.to_pylist()]
"""

CASES = [
    _rewritten("import", "positional"),
    _twin("import", NOOPS["other-influx-lib"], "other-influx-lib"),
    _rewritten("client", "client"),
    _twin("client", V3, "already-v3"),
    _rewritten("timeout", "timeout"),
    _twin("timeout", V3, "already-v3"),
    _rewritten("host-port", "selfattr"),
    _twin("host-port", TRAPS_OK, "v3-host-with-port"),
    _flagged("database", "unknown-database"),
    _twin("database", V3, "already-v3"),
    _rewritten("from-env", "fromenv"),
    _twin("from-env", CORRECT_V3["from-env"], "v3-from-env"),
    _rewritten("env-vars", "fromenv"),
    _twin("env-vars", CORRECT_V3["from-env"], "v3-from-env"),
    _flagged("from-config-file", "config-file"),
    _twin("from-config-file", V3, "already-v3"),
    _rewritten("write", "client"),
    _twin("write", NOOPS["lookalike-write"], "lookalike-write"),
    _flagged("write-manual", "options-without-constructor"),
    _twin("write-manual", V3, "already-v3"),
    _rewritten("flush-close", "with"),
    _twin("flush-close", V3, "already-v3"),
    _rewritten("write-options", "batching"),
    _twin("write-options", TRAPS_OK, "v3-write-options"),
    _flagged("write-options-manual", "options-constructor-elsewhere"),
    _twin("write-options-manual", TRAPS_OK, "v3-write-options"),
    _rewritten("write-api-batching", "with"),
    _twin("write-api-batching", V3, "already-v3"),
    Case("write-async", ASYNC_WRITE, ASYNC_WRITE_AFTER, findings=("write-async",)),
    _twin("write-async", TRAPS_OK, "v3-write-options"),
    _flagged("default-tags", "default-tags-and-basic-auth"),
    _twin("default-tags", TRAPS_OK, "v3-without-default-tags"),
    _rewritten("query", "query"),
    _twin("query", NOOPS["lookalike-write"], "lookalike-query"),
    Case("query-manual", QUERY_MANUAL, QUERY_MANUAL.replace("influxdb_client", "influxdb_client_3").replace("InfluxDBClient", "InfluxDBClient3"), findings=("query-manual",)),
    _twin("query-manual", V3, "already-v3"),
    _flagged("flux", "untranslatable-flux"),
    _twin("flux", V3, "already-v3"),
    Case("query-results", TABLES, TABLES_AFTER),
    _twin("query-results", V3, "already-v3"),
    _flagged("query-results-manual", "results-passed-on"),
    _twin("query-results-manual", V3, "already-v3"),
    _rewritten("query-frame-shape", "frame"),
    _twin("query-frame-shape", V3, "already-v3"),
    _flagged("no-equivalent", "no-equivalent"),
    _twin("no-equivalent", CORRECT_V3["service-methods"], "service-methods"),
    Case("version", VERSION, VERSION_AFTER, findings=("env-vars",)),
    _twin("version", V3, "already-v3"),
    _flagged("async-client", "async-client"),
    _twin("async-client", V3, "already-v3"),
    _rewritten("exceptions", "exc"),
    _twin("exceptions", V3, "already-v3"),
    Case("query-exceptions", QUERY_GUARD, QUERY_GUARD_AFTER, findings=("query-exceptions",)),
    _twin("query-exceptions", V3, "already-v3"),
    _flagged("unsupported-args", "host-path-and-profilers"),
    _twin("unsupported-args", V3, "already-v3"),
    *[Case(rule, TRAPS, findings=(rule,), name="traps") for rule in ("gzip-threshold", "no-sync", "timeout-v3")],
    *[_twin(rule, TRAPS_OK, "v3-without-traps") for rule in ("gzip-threshold", "no-sync", "timeout-v3")],
    Case(  # gzip_threshold= works from 0.21: a campaign that installs nothing older is not told to drop it
        "gzip-threshold",
        TRAPS,
        findings=("timeout-v3", "default-tags", "host-port", "no-sync"),
        targets={"influxdb3-python": ">=0.21.0,<0.22"},
        name="target-has-the-fix",
    ),
]


# ---- no half-migrated client: import-only modules, leftovers, filters, **mapping, patch targets ---------

FLUX_RECORD = """\
from influxdb_client.client.flux_table import FluxRecord


def show(record: FluxRecord) -> None:
    print(record.get_value())
"""
MODEL = """\
from influxdb_client import Point, WritePrecision


def reading(room: str, celsius: float, ts: int) -> Point:
    return Point("temp").tag("room", room).field("celsius", celsius).time(ts, WritePrecision.S)
"""
WARNING_FILTER = """\
import warnings

from influxdb_client import InfluxDBClient
from influxdb_client.client.warnings import MissingPivotFunction

warnings.simplefilter("ignore", MissingPivotFunction)
warnings.filterwarnings("ignore", category=DeprecationWarning)


def make(url: str, token: str) -> InfluxDBClient:
    return InfluxDBClient(url=url, token=token, org="o")
"""
WARNING_FILTER_AFTER = """\
import warnings

from influxdb_client_3 import InfluxDBClient3

warnings.filterwarnings("ignore", category=DeprecationWarning)


def make(url: str, token: str) -> InfluxDBClient3:
    return InfluxDBClient3(host=url, token=token, org="o")
"""
OTHER_FILTER = """\
import warnings

from influxdb_client_3 import InfluxDBClient3

warnings.simplefilter("ignore", DeprecationWarning)
"""
MAPPING = """\
from influxdb_client import InfluxDBClient

from app.settings import settings

client = InfluxDBClient(**settings.model_dump())
"""
PATCHES = """\
from unittest import mock

from app.db import make


def test_make():
    with mock.patch("app.db.InfluxDBClient") as cls, mock.patch("influxdb_client.InfluxDBClient.close"):
        make("http://h:8086", "t")
        cls.assert_called_once_with(url="http://h:8086", token="t", org="o")
"""
DB = """\
from influxdb_client import InfluxDBClient


def make(url, token):
    return InfluxDBClient(url=url, token=token, org="o")
"""
V1_DB = """\
from influxdb import InfluxDBClient


def make(url, token):
    return InfluxDBClient(host=url, password=token)
"""
INLINE_FLUSH = """\
from influxdb_client import InfluxDBClient


class Store:
    def __init__(self, client: InfluxDBClient) -> None:
        self.client = client

    def save(self, record) -> None:
        self.client.write_api().write(bucket="home", record=record)
        self.client.write_api().flush()
"""
INLINE_FLUSH_AFTER = """\
from influxdb_client_3 import InfluxDBClient3


class Store:
    def __init__(self, client: InfluxDBClient3) -> None:
        self.client = client

    def save(self, record) -> None:
        self.client.write(record=record, database="home")
        self.client.flush()
"""
QUERY_PARAM = """\
from influxdb_client import InfluxDBClient


def rows(client: InfluxDBClient, flux: str):
    return client.query_api().query(flux)
"""
QUERY_PASSED = """\
from influxdb_client import InfluxDBClient

from app.queries import FLUX


def rows(client: InfluxDBClient, name: str):
    return client.query_api().query(FLUX[name])
"""

CASES += [
    Case("import", MODEL, MODEL.replace("influxdb_client ", "influxdb_client_3 "), name="import-only-module"),
    Case("import-manual", FLUX_RECORD, findings=("import-manual",), sites=("import-manual",)),
    _twin("import-manual", V3, "already-v3"),
    Case("warnings-filter", WARNING_FILTER, WARNING_FILTER_AFTER, findings=("database", "host-port")),
    _twin("warnings-filter", OTHER_FILTER, "other-warning"),
    Case("client-mapping", MAPPING, MAPPING.replace("InfluxDBClient", "InfluxDBClient3").replace("influxdb_client ", "influxdb_client_3 "), findings=("client-mapping",), sites=("client-mapping",)),
    _twin("client-mapping", V3, "already-v3"),
    Case("patch-target", PATCHES, PATCHES.replace('"app.db.InfluxDBClient"', '"app.db.InfluxDBClient3"').replace("influxdb_client.InfluxDBClient.close", "influxdb_client_3.InfluxDBClient3.close"), path="svc/tests/test_db.py", extra_files={"svc/app/db.py": DB}, sites=("patch-target",)),
    _twin("patch-target", PATCHES.replace("InfluxDBClient", "InfluxDBClient3").replace("influxdb_client.", "influxdb_client_3."), "already-v3"),
    Case("flush-close", INLINE_FLUSH, INLINE_FLUSH_AFTER, findings=("write-api-batching",), name="inline-write-api"),
    Case("query-manual", QUERY_PASSED, QUERY_PASSED.replace("InfluxDBClient", "InfluxDBClient3").replace("influxdb_client ", "influxdb_client_3 "), findings=("flux",), sites=("query-manual",), name="flux-not-visible"),
]


def test_patch_targets_of_another_influxdb_library_stay() -> None:
    """`patch("app.db.InfluxDBClient")` where app/db.py uses the InfluxDB 1.x library: not this migration's."""
    new, findings = rewrite(R, PATCHES.replace(', mock.patch("influxdb_client.InfluxDBClient.close")', ""), path="svc/tests/test_db.py", extra_files={"svc/app/db.py": V1_DB})
    assert '"app.db.InfluxDBClient"' in new and not findings


def test_patch_target_of_a_method_v3_lacks_is_a_finding() -> None:
    source = 'from unittest.mock import patch\n\n\ndef test_w():\n    with patch("influxdb_client.InfluxDBClient.write_api"):\n        pass\n'
    new, findings = rewrite(R, source, path="svc/tests/test_w.py")
    assert new == source
    assert [(f.line, f.rule) for f in findings] == [(5, "influxdb3/no-equivalent")]
    assert [(s.line, s.rule, s.action.value) for s in detect(R, source, path="svc/tests/test_w.py")] == [(5, "influxdb3/no-equivalent", "human")]


def test_check_labels_auto_only_what_the_run_rewrites() -> None:
    """Every [auto] site of a tangled service is gone after one run, and a second run changes nothing."""
    files = {"svc/app/db.py": WARNING_FILTER, "svc/app/model.py": MODEL, "svc/app/rows.py": QUERY_PARAM, "svc/app/show.py": FLUX_RECORD, "svc/tests/test_db.py": PATCHES, "svc/app/mod.py": DB}
    new, _ = rewrite_files(R, files)
    again, _ = rewrite_files(R, new)
    assert again == new
    for path, text in new.items():
        left = [s for s in detect(R, text, path) if s.action.value == "auto"]
        assert not left, (path, left)


# ---- v2-only APIs as guided work: errors around queries, the async client ------------------------------

CONNECTION_GUARD = """\
import requests
from influxdb_client import InfluxDBClient


def usage(client: InfluxDBClient) -> list:
    try:
        tables = client.query_api().query('from(bucket: "home") |> range(start: -1h) |> filter(fn: (r) => r._measurement == "cpu" and r._field == "usage")')
    except (requests.exceptions.ConnectionError, TimeoutError):
        return []
    return [record.get_value() for table in tables for record in table.records]
"""
CONNECTION_GUARD_AFTER = """\
import requests
from influxdb_client_3 import InfluxDBClient3


def usage(client: InfluxDBClient3) -> list:
    try:
        tables = client.query("SELECT * FROM cpu WHERE time >= now() - INTERVAL '1 hour' AND time < now() AND usage IS NOT NULL ORDER BY time", database="home")
    except (requests.exceptions.ConnectionError, TimeoutError):
        return []
    return [record["usage"] for record in tables.to_pylist()]
"""
V3_WRITE_GUARD = """\
from influxdb_client_3 import InfluxDBClient3


def save(client: InfluxDBClient3, line: str) -> bool:
    try:
        client.write(record=line, database="home")
    except ConnectionError:
        return False
    return True
"""
ASYNC_CALLS = """\
import asyncio

from influxdb_client.client.influxdb_client_async import InfluxDBClientAsync


async def latest(url: str, token: str) -> list:
    async with InfluxDBClientAsync(url=url, token=token, org="home") as client:
        tables = await client.query_api().query('from(bucket: "home") |> range(start: -1h) |> filter(fn: (r) => r._measurement == "cpu")')
        frame = await client.query_api().query_data_frame('from(bucket: "home") |> range(start: -1h) |> filter(fn: (r) => r._measurement == "cpu")')
        await client.write_api().write(bucket="home", record="cpu v=1")
        await client.close()
        return [tables, frame]
"""
V3_AWAITED_CLOSE = """\
from influxdb_client_3 import InfluxDBClient3


async def latest(client: InfluxDBClient3):
    table = await client.query_async("SELECT * FROM cpu", database="home")
    await client.close()
    return table
"""
V3_ASYNC_OK = """\
from influxdb_client_3 import InfluxDBClient3


async def latest(client: InfluxDBClient3):
    table = await client.query_async("SELECT * FROM cpu", database="home")
    client.close()
    return table
"""

CASES += [
    Case("query-exceptions", CONNECTION_GUARD, CONNECTION_GUARD_AFTER, findings=("query-exceptions",), sites=("query-exceptions",), name="connection-error"),
    _twin("query-exceptions", V3_WRITE_GUARD, "connection-error-around-a-write"),
    Case("async-client", ASYNC_CALLS, findings=("async-client", "import-manual"), sites=("async-client",), name="calls-on-the-async-client"),
    Case("async-client", V3_AWAITED_CLOSE, findings=("async-client",), sites=("async-client",), name="awaited-close"),
    _twin("async-client", V3_ASYNC_OK, "query-async"),
]


def test_calls_on_the_async_client_each_name_the_v3_way() -> None:
    """Every call on an InfluxDBClientAsync is a Finding with its influxdb3-python form; none is [auto]."""
    _new, findings = rewrite(R, ASYNC_CALLS, path="svc/app/mod.py")
    ways = {f.line: f.message for f in findings if f.rule == "influxdb3/async-client"}
    assert 'query_async(sql, database=..., mode="pandas")' in ways[9]
    assert "asyncio.to_thread(client.write" in ways[10]
    assert "without await" in ways[11]
    sites = detect(R, ASYNC_CALLS, path="svc/app/mod.py")
    assert not [s for s in sites if s.action.value == "auto"], sites
    assert {s.line for s in sites if s.rule == "influxdb3/async-client"} == {7, 8, 9, 10, 11}


def test_connection_error_around_a_query_names_the_v3_error() -> None:
    _new, findings = rewrite(R, CONNECTION_GUARD, path="svc/app/mod.py")
    (f,) = [f for f in findings if f.rule == "influxdb3/query-exceptions"]
    assert f.line == 8 and "InfluxDB3ClientQueryError" in f.message and "requests.exceptions.ConnectionError" in f.message


# ---- consistent numbers: check and run name the same human work; other libraries are not this recipe's ------

TANGLED = """\
import warnings

import requests
from influxdb_client import InfluxDBClient, Point, WritePrecision
from influxdb_client.client.flux_table import FluxRecord, FluxTable
from influxdb_client.client.warnings import MissingPivotFunction
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.rest import ApiException

from app.settings import Settings

warnings.simplefilter("ignore", MissingPivotFunction)


class Store:
    def __init__(self, settings: Settings) -> None:
        self.client = InfluxDBClient(**settings.model_dump())
        self.writer = self.client.write_api(write_options=SYNCHRONOUS)

    def healthy(self) -> bool:
        return self.client.ping()

    def drop(self) -> None:
        self.client.delete_api().delete("1970-01-01T00:00:00Z", "2100-01-01T00:00:00Z", '_measurement="cpu"', bucket="b")

    def setup(self) -> None:
        self.client.buckets_api().create_bucket(bucket_name="b", retention_rules=None)

    def rows(self, flux: str) -> list[FluxRecord]:
        try:
            tables: list[FluxTable] = self.client.query_api().query(flux)
        except requests.exceptions.ConnectionError:
            return []
        return [r for t in tables for r in t.records]

    def frame(self):
        return self.client.query_api().query_data_frame('from(bucket: "b") |> range(start: -1h)')

    def flush(self) -> None:
        self.client.write_api().flush()

    def close(self) -> None:
        self.client.close()
"""


def test_check_and_run_name_the_same_human_work() -> None:
    """A tangled module (v2 names kept as annotations, **settings, ping/delete/buckets, a Flux wrapper, a
    connection error around a query, an inline flush): each [human] site of check is one Finding of the run,
    on the same line, and no line is listed twice."""
    files = {"svc/app/db.py": TANGLED, "svc/app/settings.py": "class Settings:\n    pass\n"}
    _new, findings = rewrite_files(R, files)
    sites = detect(R, TANGLED, path="svc/app/db.py")
    human = sorted((s.line, s.rule) for s in sites if s.action.value == "human")
    reported = sorted((f.line, f.rule) for f in findings if f.file == "svc/app/db.py" and f.severity is Severity.HUMAN)
    assert human == reported
    lines = [(s.line, s.rule, s.detail) for s in sites]
    assert len(lines) == len(set(lines))


def test_another_influxdb_library_is_not_this_recipe() -> None:
    """InfluxDB 1.x's `influxdb.InfluxDBClient` (and a test patching it by its module path) is no site, no
    rewrite and no Finding of the influxdb-client migration."""
    files = {"svc/app/db.py": V1_DB, "svc/tests/test_db.py": PATCHES.replace(', mock.patch("influxdb_client.InfluxDBClient.close")', "")}
    new, findings = rewrite_files(R, files)
    assert new == {k: v for k, v in files.items()} and not findings
    assert not [s for path, text in files.items() for s in detect(R, text, path)]


V3_V2_SETTINGS = """\
from influxdb_client_3 import InfluxDBClient3
from pydantic import BaseModel


class InfluxSettings(BaseModel):
    url: str = "http://influxdb:8086"
    token: str = "t"
    org: str = "home"
    bucket: str = "home"


def make(settings: InfluxSettings) -> InfluxDBClient3:
    return InfluxDBClient3(**settings.model_dump())
"""

CASES += [
    Case("client-mapping", V3_V2_SETTINGS, findings=("client-mapping",), sites=("client-mapping",), name="v3-client-from-v2-settings"),
    _twin("client-mapping", V3_V2_SETTINGS.replace("url:", "host:").replace("bucket:", "database:"), "v3-client-from-v3-settings"),
    Case("client-mapping", "from influxdb_client_3 import InfluxDBClient3\n\nclient = InfluxDBClient3(**dict(url=URL, token=TOKEN))\n", findings=("client-mapping",), sites=("client-mapping",), name="v3-client-from-dict"),
]


@pytest.mark.parametrize(
    ("url", "flagged"),
    [("config.url", True), ('"http://influxdb:8086"', False), ('"http://influxdb"', False), ("URL", False), ('f"http://{host}"', True)],
)
def test_check_lists_the_host_port_findings_the_run_makes(url: str, flagged: bool) -> None:
    """A v2 `url=` whose port the rewrite cannot see is a [human] host-port site of check and a Finding of the
    run on the same line; a literal URL is made `scheme://host:port` (http://influxdb -> :80) and says nothing."""
    source = f'import os\n\nfrom influxdb_client import InfluxDBClient\n\nURL = os.getenv("INFLUX_URL", "http://influxdb:8086")\n\n\ndef make(config, host):\n    return InfluxDBClient(url={url}, token="t")\n'
    _new, findings = rewrite(R, source, path="svc/app/mod.py")
    ran = sorted(f.line for f in findings if f.rule == "influxdb3/host-port")
    checked = sorted(s.line for s in detect(R, source, path="svc/app/mod.py") if s.rule == "influxdb3/host-port")
    assert ran == checked == ([9] if flagged else [])


def test_import_manual_parses_no_module_left_without_v2_imports(record_calls) -> None:
    """The import-manual check reads the rewritten module's imports only when its text still names
    `influxdb_client` (a fully migrated module imports `influxdb_client_3` alone: nothing to parse); a module that
    keeps a v2 import is still read and reported."""
    from fleetshift.recipes.influxdb.rewrite import rewrite_module
    from fleetshift.recipes.influxdb.rules import import_manual

    parsed = record_calls(import_manual, "parse_tree")
    source = 'from influxdb_client import InfluxDBClient\n\nclient = InfluxDBClient(url="http://influxdb:8086", token="t", org="o")\n'
    new, _notes = rewrite_module(source)
    assert "influxdb_client_3" in new and "from influxdb_client import" not in new
    assert parsed == []
    kept = "from influxdb_client import InfluxDBClient\nfrom influxdb_client.client.flux_table import FluxTable\n\n\ndef rows(t: FluxTable) -> list:\n    return list(t.records)\n"
    new, notes = rewrite_module(kept)
    assert parsed == [new]
    assert any(n.rule == "import-manual" for n in notes)


def test_detection_leaves_no_reference_cycle() -> None:
    """A module's facts (its Flux strings and receivers asked) hold no reference cycle: dropped by the scan, the
    module's tree is freed by reference counting at once, not kept (every node of it) until the cyclic collector
    walks it."""
    import ast
    import gc
    import weakref

    from fleetshift.recipes.base import SourceFile, file_kind
    from fleetshift.recipes.influxdb.facts import facts_of

    source = (
        "from influxdb_client import InfluxDBClient\n\nFLUX = 'from(bucket: \"b\") |> range(start: -1h)'\n\n\n"
        "def read(client: InfluxDBClient) -> list:\n    return client.query_api().query(FLUX)\n"
    )
    path = "svc/app/mod.py"
    assert detect(R, source, path=path)  # what the check reads of such a module
    gc.collect()
    gc.disable()
    try:
        tree = ast.parse(source)
        facts = facts_of(source, tree)
        assert facts.flux.receivers.make() is facts.receivers  # one Receivers, made when first asked
        assert list(get(R).detect(SourceFile(path, source, tree, file_kind(path))))
        gone = weakref.ref(facts)
        del facts, tree
        assert gone() is None
    finally:
        gc.enable()


def test_modules_needing_the_same_new_import_each_get_it_from_one_parse() -> None:
    import importlib

    rule = importlib.import_module("fleetshift.recipes.influxdb.rules.import")
    line = "from influxdb_client_3 import InfluxDBClient3"
    assert rule._statement(line) is rule._statement(line)
    before = REWRITES[0].values[0]
    new, _ = rewrite_files("influxdb3", {"svc/a.py": before, "svc/b.py": "import os\n" + before})
    assert new["svc/a.py"] == REWRITES[0].values[1]
    assert new["svc/b.py"] == "import os\n" + REWRITES[0].values[1]
