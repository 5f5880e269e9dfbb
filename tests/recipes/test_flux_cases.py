"""The Flux rules keyed by rule (Flux strings anywhere in a service, `.flux` files, the service's query
wrappers, Flux-only columns), each with its no-op twin; the migrated readers are proved on the wire in
`test_flux_behaviour.py`."""

from __future__ import annotations

from recipe_harness import Case

R = "influxdb3"
PEAKS = (
    'from(bucket: "home")\n  |> range(start: -1d)\n'
    '  |> filter(fn: (r) => r._measurement == "power" and r._field == "watts")\n'
    '  |> group(columns: ["circuit", "_field"])\n  |> max()\n'
)

STRING = """\
from collections import defaultdict


def readings(db, room):
    query = f\"\"\"
        from(bucket: "home")
          |> range(start: -1h)
          |> filter(fn: (r) => r._measurement == "climate" and r.room == "{room}")
          |> filter(fn: (r) => r._field == "celsius" or r._field == "humidity")
    \"\"\"
    out = defaultdict(list)
    for row in db.exec_flux(query):
        out[row["_field"]].append((row["_time"], row["_value"]))
    return out
"""

STRING_AFTER = """\
from collections import defaultdict


def readings(db, room):
    query = f\"\"\"SELECT arrow_cast(time, 'Timestamp(Microsecond, None)') AT TIME ZONE 'UTC' AS _time, 'climate' AS _measurement,
'celsius' AS _field, celsius AS _value, room FROM (SELECT * FROM climate WHERE time >= now() - INTERVAL
'1 hour' AND time < now() AND celsius IS NOT NULL AND room = '{room}' ORDER BY time) UNION ALL SELECT
arrow_cast(time, 'Timestamp(Microsecond, None)') AT TIME ZONE 'UTC' AS _time, 'climate' AS _measurement,
'humidity' AS _field, humidity AS _value, room FROM (SELECT * FROM climate WHERE time >= now() - INTERVAL '1 hour'
AND time < now() AND humidity IS NOT NULL AND room = '{room}' ORDER BY time) ORDER BY _field, room, _time\"\"\"
    out = defaultdict(list)
    for row in db.exec_flux(query):
        out[row["_field"]].append((row["_time"], row["_value"]))
    return out
"""

FILE = """\
from pathlib import Path

QUERIES = Path(__file__).parent / "queries"


def load(name):
    return (QUERIES / f"{name}.flux").read_text()


def peaks(db):
    return {row["circuit"]: row["_value"] for row in db.exec_flux(load("peaks"))}
"""

FILE_AFTER = FILE.replace('f"{name}.flux"', 'f"{name}.sql"')

WRAPPER = """\
from influxdb_client import InfluxDBClient


class Gateway:
    def __init__(self, url, token, org, bucket):
        self.bucket = bucket
        self._client = InfluxDBClient(url=url, token=token, org=org)
        self._query_api = self._client.query_api()

    def exec_flux(self, query):
        tables = self._query_api.query(query, org="homeiq")
        return [record.values for table in tables for record in table.records]

    def series(self, query):
        out = []
        for table in self._query_api.query(query):
            for record in table.records:
                out.append((record.get_time(), record.get_field(), record.get_value()))
        return out
"""

WRAPPER_AFTER = """\
from influxdb_client_3 import InfluxDBClient3


class Gateway:
    def __init__(self, url, token, org, bucket):
        self.bucket = bucket
        self._client = InfluxDBClient3(host=url, token=token, org=org)

    def exec_flux(self, query):
        tables = self._client.query(query)
        return [record for record in tables.to_pylist()]

    def series(self, query):
        out = []
        for record in self._client.query(query).to_pylist():
            out.append((record["_time"], record["_field"], record["_value"]))
        return out
"""

PASSED_ON = """\
from influxdb_client import InfluxDBClient


class Gateway:
    def __init__(self, url, token, org):
        self._client = InfluxDBClient(url=url, token=token, org=org)
        self._query_api = self._client.query_api()

    def exec_flux(self, query):
        return self._query_api.query(query)
"""

START_STOP = """\
def windows(db):
    query = '''
        from(bucket: "home")
          |> range(start: -1h)
          |> filter(fn: (r) => r._measurement == "power" and r._field == "watts")
    '''
    return [(row["_start"], row["_stop"], row["_value"]) for row in db.exec_flux(query)]
"""

CONTINUED = """\
def draw(db, circuit):
    query = 'from(bucket: "home") |> range(start: -1h) ' + \\
        f'|> filter(fn: (r) => r._measurement == "power" and r._field == "watts" and r.circuit == "{circuit}")'
    return [row["_value"] for row in db.exec_flux(query)]
"""

CONTINUED_AFTER = """\
def draw(db, circuit):
    query = ("SELECT arrow_cast(time, 'Timestamp(Microsecond, None)') AT TIME ZONE 'UTC' AS _time, 'power' AS _measurement, 'watts' AS _field, watts AS _value, circuit FROM "
        f"(SELECT * FROM power WHERE time >= now() - INTERVAL '1 hour' AND time < now() AND watts IS NOT NULL AND circuit = '{circuit}' ORDER BY time) ORDER BY _field, circuit, _time")
    return [row["_value"] for row in db.exec_flux(query)]
"""

EXTENDED = """\
HEAVY = '|> filter(fn: (r) => r.circuit == "heat")'


def draw(db, heavy):
    query = 'from(bucket: "home") |> range(start: -1h) |> filter(fn: (r) => r._measurement == "power" and r._field == "watts")'
    if heavy:
        query += HEAVY
    return db.exec_flux(query)
"""

V3_GATEWAY = """\
from influxdb_client_3 import InfluxDBClient3


class Gateway:
    def __init__(self, host, token, database):
        self._client = InfluxDBClient3(host=host, token=token, database=database)

    def run(self, sql):
        return self._client.query(sql).to_pylist()
"""

CASES = [
    Case("flux-string", STRING, STRING_AFTER, findings=("flux-string",)),
    Case("flux-string", CONTINUED, CONTINUED_AFTER, findings=("flux-string",), name="backslash-continued"),
    Case("flux-string", 'HELP = "a query is from(bucket: ...) piped into filters"\n'),
    Case("flux-manual", EXTENDED, findings=("flux-manual",), name="extended-at-run-time"),
    Case(
        "flux-file",
        FILE,
        FILE_AFTER,
        findings=("flux-file",),
        extra_files={"svc/app/queries/peaks.flux": PEAKS},
    ),
    Case("flux-file", FILE.replace(".flux", ".sql")),
    Case("flux-wrapper", WRAPPER, WRAPPER_AFTER, findings=("flux-wrapper",)),
    Case("flux-wrapper", V3_GATEWAY),
    Case(
        "flux-wrapper-manual",
        PASSED_ON,
        PASSED_ON.replace("client import InfluxDBClient", "client_3 import InfluxDBClient3").replace(
            "InfluxDBClient(url=url", "InfluxDBClient3(host=url"
        ),
        findings=("flux-wrapper-manual",),
    ),
    Case("flux-wrapper-manual", V3_GATEWAY),
    Case("flux-shape", START_STOP, findings=("flux-shape",)),
    Case("flux-manual", 'HELP = "a query is from(bucket: ...) piped into filters"\n'),
    Case(
        "flux-manual",
        START_STOP.replace('row["_start"], row["_stop"], ', "").replace(
            "-1h)", '-1h)\n          |> keep(columns: ["_time", "_value"])'
        ),
        findings=("flux-manual",),
        name="renamed-value",
    ),
    Case("flux-shape", "def windows(rows):\n    return [(r['_start'], r['_value']) for r in rows]\n"),
]
