"""Flux scripts in Flux's own long shape: each case runs its SQL on the InfluxDB 3 test server and compares the
rows (`_time` in UTC, `_measurement`, `_field`, `_value`, tags) with the FluxRecords the independent Flux
evaluator computes from the same written data; blocked scripts carry a proposed SQL that runs."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pyarrow.flight as flight
import pytest
from influxdb3_server import InfluxDB3TestServer, evaluate

from fleetshift.recipes.influxdb.flux.long import shaped
from fleetshift.recipes.influxdb.flux.prepare import prepare

DB = "home"
T0 = 1_704_067_200 * 10**9  # 2024-01-01T00:00:00Z
MIN = 60 * 10**9


def _lines() -> str:
    out = []
    for k in range(30):  # every 2 minutes for an hour, two rooms, three fields (two floats, one int)
        for i, room in enumerate(("kitchen", "office")):
            t = T0 + k * 2 * MIN + i * 10**9
            out.append(
                f"climate,room={room},floor={i} celsius={19.5 + k / 4 + i},humidity={40.0 + k % 7 + i},co2={400 + k}i {t}"
            )
    for k in range(12):
        out.append(f"power,circuit=main,phase=a watts={300.0 + 25 * (k % 5)} {T0 + k * 5 * MIN}")
        out.append(f"power,circuit=heat,phase=b watts={1200.0 - 40 * k} {T0 + k * 5 * MIN + 2 * 10**9}")
    return "\n".join(out)


@pytest.fixture(scope="module")
def server():
    with InfluxDB3TestServer() as srv:
        srv.write(DB, _lines())
        yield srv


RANGE = 'from(bucket: "home")\n  |> range(start: 2024-01-01T00:00:00Z, stop: 2024-01-01T01:00:00Z)'
TWO = (
    '|> filter(fn: (r) => r._measurement == "climate" and (r._field == "celsius" or r._field == "humidity"))'
)

# (name, flux script, tags the caller reads, expected: "sql" exact, "proposed" blocked with a proposal)
CASES = [
    ("two-fields", f"{RANGE}\n  {TWO}", ("room",), "sql"),
    (
        "two-fields-bracket",
        f'{RANGE}\n  |> filter(fn: (r) => r["_measurement"] == "climate")\n'
        '  |> filter(fn: (r) => r["_field"] == "celsius" or r["_field"] == "humidity")\n'
        '  |> filter(fn: (r) => r["room"] == "office")',
        ("floor",),
        "sql",
    ),
    (
        "window-two-fields",
        f'{RANGE}\n  {TWO}\n  |> group(columns: ["room", "_field"])\n'
        "  |> aggregateWindow(every: 15m, fn: mean, createEmpty: false)",
        ("room",),
        "sql",
    ),
    (
        "window-max-one-field",
        f'{RANGE}\n  |> filter(fn: (r) => r._measurement == "power" and r._field == "watts")\n'
        '  |> group(columns: ["circuit", "_field"])\n  |> aggregateWindow(every: 20m, fn: max, createEmpty: false)',
        ("circuit",),
        "sql",
    ),
    (
        "variables",
        'bucket = "home"\nstart = 2024-01-01T00:00:00Z\n'
        "data = from(bucket: bucket)\n  |> range(start: start, stop: 2024-01-01T00:30:00Z)\n"
        '  |> filter(fn: (r) => r._measurement == "power")\n  |> filter(fn: (r) => r._field == "watts")\n'
        'data\n  |> yield(name: "watts")',
        ("circuit",),
        "sql",
    ),
    (
        "last-after-group",
        f'{RANGE}\n  {TWO}\n  |> group(columns: ["room", "_field"])\n  |> last()',
        ("room",),
        "proposed",
    ),
    (
        "option-task",
        'option task = {name: "rollup", every: 1h}\n'
        f'{RANGE}\n  |> filter(fn: (r) => r._measurement == "power" and r._field == "watts")\n'
        '  |> group(columns: ["circuit", "_field"])\n  |> aggregateWindow(every: 1h, fn: mean, createEmpty: false)\n'
        '  |> to(bucket: "rollups")',
        ("circuit",),
        "proposed",
    ),
    (
        "integral",
        f'{RANGE}\n  |> filter(fn: (r) => r._measurement == "power" and r._field == "watts")\n'
        "  |> integral(unit: 1h)",
        ("circuit",),
        "proposed",
    ),
]


def _sql_rows(srv: InfluxDB3TestServer, sql: str) -> list[dict]:
    client = flight.FlightClient(f"grpc+tcp://127.0.0.1:{srv.port}")
    ticket = {"database": DB, "sql_query": sql, "query_type": "sql"}
    opts = flight.FlightCallOptions(headers=[(b"authorization", b"Bearer test-token")])
    try:
        return client.do_get(flight.Ticket(json.dumps(ticket).encode()), opts).read_all().to_pylist()
    finally:
        client.close()


def _flux_records(srv: InfluxDB3TestServer, script: str, columns: list[str]) -> list[dict]:
    """The evaluator's FluxRecords, as influxdb-client hands them out (`_time` a UTC datetime)."""
    rows = []
    for table in evaluate(prepare(script).text, srv.store, now=time.time_ns()):
        for r in table.rows:
            row = {c: r.get(c) for c in columns}
            if "_time" in row:
                t = row["_time"]
                row["_time"] = datetime.fromtimestamp(t // 10**9, UTC).replace(microsecond=t % 10**9 // 1000)
            rows.append(row)
    return rows


def _key(row: dict) -> tuple:
    return tuple(str(row[c]) for c in sorted(row))


@pytest.mark.parametrize(("name", "script", "tags", "expected"), CASES, ids=[c[0] for c in CASES])
def test_long_shape(server: InfluxDB3TestServer, name: str, script: str, tags: tuple, expected: str) -> None:
    tr, why = shaped(script, long=True, tags=tags)
    assert tr is not None, f"{name}: {why}"
    if expected == "proposed":
        assert not tr.exact and tr.proposed, name
        assert tr.reason, name
        _sql_rows(server, tr.proposed)  # the proposal runs
        return
    assert tr.exact, f"{name}: {tr.reason}"
    assert tr.long and tr.database == DB
    got = _sql_rows(server, tr.sql)
    columns = list(tr.columns)
    want = _flux_records(server, script, columns)
    assert want, f"{name}: the Flux selects no rows; the case proves nothing"
    assert [set(r) for r in got] == [set(columns)] * len(got)
    # the same records; within each series (field and tags) the same order and the same UTC times
    assert sorted(got, key=_key) == sorted(want, key=_key), f"{name}\nSQL: {tr.sql}"
    for series in {(r["_field"], *(r[t] for t in tags)) for r in want}:
        pick = [r for r in got if (r["_field"], *(r[t] for t in tags)) == series]
        assert pick == [r for r in want if (r["_field"], *(r[t] for t in tags)) == series]
    assert all(r["_time"].utcoffset().total_seconds() == 0 for r in got if "_time" in r)


def test_wide_caller_of_several_fields_gets_a_long_proposal(server: InfluxDB3TestServer) -> None:
    script = f'{RANGE}\n  {TWO}\n  |> group(columns: ["room", "_field"])\n  |> aggregateWindow(every: 15m, fn: mean, createEmpty: false)'
    tr, _ = shaped(script, long=False)
    assert tr is not None and not tr.exact and "several fields" in tr.reason
    _sql_rows(server, tr.proposed)


def test_python_range_bound_blocks_unless_it_is_a_time() -> None:
    from fleetshift.recipes.influxdb.flux import hole

    script = f'from(bucket: "home") |> range(start: {hole(0)}) {TWO}'
    tr, why = shaped(script, long=True)
    assert tr is None and "Python value" in why
    tr, why = shaped(script, long=True, time_holes=[hole(0)])
    assert tr is not None and tr.exact and f"time >= '{hole(0)}'" in tr.sql
