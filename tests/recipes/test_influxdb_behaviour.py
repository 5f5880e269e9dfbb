"""Behavioural proof: a real influxdb-client 1.50.0 program (construction, writes of every record kind,
Flux queries reading records, streams and DataFrames) runs against the InfluxDB 3 test double on the
old pins; the recipe migrates it; the migrated program writes and reads the same data through the real
influxdb3-python 0.17.0 and 0.21.0 clients and prints the same values, and the server stores the same
points from both."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from influxdb3_server import InfluxDB3TestServer
from recipe_harness import rewrite_files
from uvenv import run, uv_env

pytestmark = pytest.mark.slow

OLD = ["influxdb-client[extras]==1.50.0", "pandas"]
NEW = {"0.17.0": ["influxdb3-python[pandas]==0.17.0"], "0.21.0": ["influxdb3-python[pandas]==0.21.0"]}

PROGRAM = '''\
"""A small service module written for influxdb-client 1.x."""

import json
import sys
from collections import namedtuple

import pandas as pd
from influxdb_client import InfluxDBClient, Point, WritePrecision
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.rest import ApiException

BUCKET = "home"
T0 = 1704067200  # 2024-01-01T00:00:00Z
Reading = namedtuple("Reading", ["room", "celsius", "ts"])
WINDOW = 'from(bucket: "home") |> range(start: 2024-01-01T00:00:00Z, stop: 2024-01-02T00:00:00Z)'


class Store:
    def __init__(self, url: str, token: str) -> None:
        self.client = InfluxDBClient(url=url, token=token, org="homeiq", timeout=10_000)
        self.writer = self.client.write_api(write_options=SYNCHRONOUS)
        self.reader = self.client.query_api()

    def write_all(self) -> None:
        point = Point("cpu").tag("host", "a").field("usage", 0.5).time(T0, WritePrecision.S)
        self.writer.write(BUCKET, "homeiq", point, write_precision=WritePrecision.S)
        self.writer.write(bucket=BUCKET, record=f"cpu,host=b usage=0.75 {(T0 + 60) * 10**9}")
        self.writer.write(bucket=BUCKET, record=[f"cpu,host=a usage=0.25 {(T0 + 120) * 10**9}",
                                                 f"cpu,host=b usage=1.5 {(T0 + 180) * 10**9}"])
        self.writer.write(bucket=BUCKET, record=f"cpu,host=web1 usage=2.25 {(T0 + 240) * 10**9}".encode())
        self.writer.write(
            bucket=BUCKET,
            record={"measurement": "temp", "tags": {"room": "kitchen"}, "fields": {"celsius": 21.5}, "time": (T0 + 30) * 10**9},
        )
        self.writer.write(
            bucket=BUCKET,
            record=[Reading("garage", 6.5, (T0 + 90) * 10**9), Reading("kitchen", 22.0, (T0 + 150) * 10**9)],
            record_measurement_name="temp",
            record_tag_keys=["room"],
            record_field_keys=["celsius"],
            record_time_key="ts",
        )
        frame = pd.DataFrame(
            {"room": ["garage", "kitchen"], "celsius": [7.25, 22.5], "humidity": [60, 41]},
            index=pd.to_datetime([(T0 + 210) * 10**9, (T0 + 270) * 10**9], utc=True),
        )
        self.writer.write(bucket=BUCKET, record=frame, data_frame_measurement_name="temp",
                          data_frame_tag_columns=["room"])

    def usage(self) -> list:
        tables = self.reader.query(WINDOW + ' |> filter(fn: (r) => r._measurement == "cpu" and r._field == "usage")')
        out = []
        for table in tables:
            for record in table.records:
                out.append([record.get_time().isoformat(), record.values["host"], record.get_value()])
        return sorted(out)

    def kitchen(self) -> list:
        flux = (
            'from(bucket: "home") |> range(start: 2024-01-01T00:00:00Z, stop: 2024-01-02T00:00:00Z) '
            '|> filter(fn: (r) => r._measurement == "temp" and r._field == "celsius") '
            '|> filter(fn: (r) => r.room == "kitchen")'
        )
        tables = self.reader.query(flux)
        return [record.get_value() for table in tables for record in table.records]

    def host_stream(self, host: str) -> list:
        records = self.reader.query_stream(
            'from(bucket: "home") |> range(start: 2024-01-01T00:00:00Z, stop: 2024-01-02T00:00:00Z) '
            '|> filter(fn: (r) => r._measurement == "cpu" and r._field == "usage" and r.host == hostParam)',
            params={"hostParam": host},
        )
        return [[rec["_time"].isoformat(), rec.get_field(), rec["_value"]] for rec in records]

    def busiest(self) -> list:
        tables = self.reader.query(WINDOW + ' |> filter(fn: (r) => r._measurement == "cpu" and r._field == "usage") '
                                   '|> group() |> sort(columns: ["_time"], desc: true) |> limit(n: 2)')
        out = []
        for table in tables:
            for record in table.records:
                out.append([record.values.get("host"), record.get_value()])
        return out

    def frame(self) -> list:
        df = self.reader.query_data_frame(
            WINDOW + ' |> filter(fn: (r) => r._measurement == "temp" and r.room == "garage") '
            '|> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")'
        )
        return [df["celsius"].tolist(), [None if pd.isna(h) else float(h) for h in df["humidity"].tolist()]]

    def bad_write(self) -> str:
        try:
            self.writer.write(bucket=BUCKET, record="this is not line protocol")
        except ApiException:
            return "rejected"
        return "accepted"

    def close(self) -> None:
        self.writer.close()
        self.client.close()


if __name__ == "__main__":
    store = Store(sys.argv[1], "test-token")
    store.write_all()
    result = {
        "usage": store.usage(),
        "kitchen": store.kitchen(),
        "stream": store.host_stream("b"),
        "busiest": store.busiest(),
        "frame": store.frame(),
        "bad_write": store.bad_write(),
    }
    store.close()
    print(json.dumps(result, sort_keys=True))
'''

EXPECTED = {
    "usage": [
        ["2024-01-01T00:00:00+00:00", "a", 0.5],
        ["2024-01-01T00:01:00+00:00", "b", 0.75],
        ["2024-01-01T00:02:00+00:00", "a", 0.25],
        ["2024-01-01T00:03:00+00:00", "b", 1.5],
        ["2024-01-01T00:04:00+00:00", "web1", 2.25],
    ],
    "kitchen": [21.5, 22.0, 22.5],
    "stream": [["2024-01-01T00:01:00+00:00", "usage", 0.75], ["2024-01-01T00:03:00+00:00", "usage", 1.5]],
    "busiest": [["web1", 2.25], ["b", 1.5]],
    "frame": [[6.5, 7.25], [None, 60.0]],
    "bad_write": "rejected",
}


def _run(python: Path, cwd: Path) -> tuple[dict, dict]:
    with InfluxDB3TestServer() as srv:
        proc = run(python, "app/store.py", srv.url, cwd=cwd, timeout=120)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        stored = {m: srv.store.arrow("home", m).to_pylist() for m in srv.store.measurements("home")}
        return json.loads(proc.stdout.strip().splitlines()[-1]), stored


def test_old_program_migrates_and_behaves_the_same(tmp_path: Path) -> None:
    old_dir, new_dir = tmp_path / "old", tmp_path / "new"
    for d in (old_dir, new_dir):
        (d / "app").mkdir(parents=True)
    (old_dir / "app" / "store.py").write_text(PROGRAM)
    old_out, old_stored = _run(uv_env(OLD), old_dir)
    assert old_out == EXPECTED

    new_files, findings = rewrite_files("influxdb3", {"svc/app/store.py": PROGRAM})
    migrated = new_files["svc/app/store.py"]
    assert "influxdb_client_3" in migrated and "query_api" not in migrated and "write_api" not in migrated
    assert {f.rule for f in findings} <= {"influxdb3/host-port", "influxdb3/query-frame-shape"}
    (new_dir / "app" / "store.py").write_text(migrated)
    for version, reqs in NEW.items():
        new_out, new_stored = _run(uv_env(reqs), new_dir)
        assert new_out == old_out, f"influxdb3-python {version}:\n{migrated}"
        assert new_stored == old_stored, f"influxdb3-python {version} stored other points"


# ---- no half-migrated client: a service's model module, warning filter, inline flush and mock targets ----

SERVICE = {
    "app/__init__.py": "",
    "app/models.py": '''\
from influxdb_client import Point, WritePrecision


def reading(room: str, celsius: float, ts: int) -> Point:
    return Point("temp").tag("room", room).field("celsius", celsius).time(ts, WritePrecision.S)
''',
    "app/db.py": '''\
import warnings

from influxdb_client import InfluxDBClient
from influxdb_client.client.warnings import MissingPivotFunction
from influxdb_client.client.write_api import SYNCHRONOUS

from app.models import reading

warnings.simplefilter("ignore", MissingPivotFunction)


class Store:
    def __init__(self, url: str, token: str) -> None:
        self.client = InfluxDBClient(url=url, token=token, org="home")

    def save(self, room: str, celsius: float, ts: int) -> None:
        self.client.write_api(write_options=SYNCHRONOUS).write(bucket="home", record=reading(room, celsius, ts))
        self.client.write_api().flush()

    def close(self) -> None:
        self.client.close()
''',
    "tests/test_db.py": '''\
import os
from unittest import mock

from app.db import Store


def test_one_client_is_built():
    with mock.patch("app.db.InfluxDBClient") as cls, mock.patch("influxdb_client.InfluxDBClient.close") as close:
        Store("http://127.0.0.1:8181", "t").close()
    cls.assert_called_once()
    close.assert_not_called()  # the class is patched: its close is the mock's


def test_save_reaches_the_server():
    store = Store(os.environ["INFLUX_URL"], "test-token")
    store.save("kitchen", 21.5, 1704067200)
    store.close()
''',
}
PYTEST_NEW = ["influxdb3-python[pandas]==0.21.0", "pytest"]


def _pytest(python: Path, root: Path) -> tuple[int, str, list]:
    with InfluxDB3TestServer() as srv:
        proc = run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=root, env={"INFLUX_URL": srv.url}, timeout=180)
        stored = srv.store.arrow("home", "temp").to_pylist() if "temp" in srv.store.measurements("home") else []
        return proc.returncode, proc.stdout + proc.stderr, stored


def _tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_import_only_modules_filters_flush_and_mock_targets_follow_the_rename(tmp_path: Path) -> None:
    old_rc, old_out, old_stored = _pytest(uv_env([*OLD, "pytest"]), _tree(tmp_path / "old", SERVICE))
    assert old_rc == 0, old_out
    new_python = uv_env(PYTEST_NEW)
    rc, out, _ = _pytest(new_python, _tree(tmp_path / "unmigrated", SERVICE))
    assert rc != 0 and "influxdb_client" in out  # the old code does not run on the new pins

    new_files, findings = rewrite_files("influxdb3", {f"svc/{k}": v for k, v in SERVICE.items()})
    migrated = {k: new_files[f"svc/{k}"] for k in SERVICE}
    assert all("from influxdb_client " not in t and "influxdb_client." not in t for t in migrated.values()), migrated
    assert "MissingPivotFunction" not in migrated["app/db.py"] and "write_api" not in migrated["app/db.py"]
    assert {f.rule for f in findings} <= {"influxdb3/host-port", "influxdb3/write-api-batching"}, findings
    again, _ = rewrite_files("influxdb3", new_files)
    assert again == new_files  # a second run changes nothing
    rc, out, stored = _pytest(new_python, _tree(tmp_path / "migrated", migrated))
    assert rc == 0, out + "\n".join(migrated.values())
    assert stored == old_stored and stored, stored


ERRORS = '''\
import sys

try:
    from influxdb_client import InfluxDBClient

    client = InfluxDBClient(url="http://127.0.0.1:1", token="t", org="o", timeout=2000)
    query = lambda: client.query_api().query('from(bucket: "b") |> range(start: -1h)')
    QueryError = ()
except ImportError:
    from influxdb_client_3 import InfluxDBClient3
    from influxdb_client_3.exceptions import InfluxDB3ClientQueryError as QueryError

    client = InfluxDBClient3(host="http://127.0.0.1:1", token="t", database="b", query_timeout=2000)
    query = lambda: client.query("SELECT 1")
import urllib3

try:
    try:
        query()
    except urllib3.exceptions.HTTPError:  # what a service catches around influxdb-client queries
        print("old handler")
except QueryError:
    print("InfluxDB3ClientQueryError")
'''


@pytest.mark.parametrize("version", ["0.17.0", "0.21.0"])
def test_a_failed_query_is_an_influxdb3_client_query_error(tmp_path: Path, version: str) -> None:
    """What the query-exceptions Finding says: the v2 handler caught the unreachable server, on influxdb3-python
    only `InfluxDB3ClientQueryError` does."""
    (tmp_path / "errors.py").write_text(ERRORS)
    old = run(uv_env(OLD), "errors.py", cwd=tmp_path, timeout=120)
    assert old.stdout.strip() == "old handler", old.stdout + old.stderr
    new = run(uv_env([f"influxdb3-python[pandas]=={version}"]), "errors.py", cwd=tmp_path, timeout=120)
    assert new.stdout.strip() == "InfluxDB3ClientQueryError", new.stdout + new.stderr
