"""Flux -> SQL translation table: each query either runs as SQL through the InfluxDB 3 test double and
returns the rows the Flux meant (computed independently by the double's Python Flux evaluator over
the same written data), or is left to a human with a Finding that carries the proposed SQL."""

from __future__ import annotations

import json
import time
from collections import defaultdict

import pyarrow as pa
import pyarrow.flight as flight
import pytest
from influxdb3_server import InfluxDB3TestServer, evaluate
from recipe_harness import rewrite

from fleetshift.recipes.influxdb.flux import try_translate

DB = "home"
T0 = 1_704_067_200 * 10**9  # 2024-01-01T00:00:00Z
MIN = 60 * 10**9


def _lines(now: int) -> str:
    out = []
    hosts = {"a": "eu", "b": "eu", "web1": "us"}
    for i, (host, region) in enumerate(hosts.items()):
        for k in range(12):  # absolute data: every 30 s for 6 minutes, series offset by i seconds
            t = T0 + k * 30 * 10**9 + i * 10**9
            usage = 10.0 + 7.25 * k + 20 * i
            out.append(f"cpu,host={host},region={region} usage={usage},load={k + i}i {t}")
        for k in range(1, 50, 7):  # recent data for relative ranges
            t = now - k * MIN - i * 10**9
            out.append(f"cpu,host={host},region={region} usage={40.0 + k + i} {t}")
    for k in range(6):
        out.append(f"temp,room=kitchen celsius={20.5 + k / 4},humidity={40 + k}i {T0 + k * MIN}")
        out.append(f"temp,room=garage celsius={5.25 + k / 4} {T0 + k * MIN + 10**9}")
    return "\n".join(out)


@pytest.fixture(scope="module")
def server():
    with InfluxDB3TestServer() as srv:
        srv.write(DB, _lines(time.time_ns()))
        yield srv


ABS = 'from(bucket: "home") |> range(start: 2024-01-01T00:00:00Z, stop: 2024-01-01T01:00:00Z)'
CPU_USAGE = '|> filter(fn: (r) => r._measurement == "cpu" and r._field == "usage")'

# (name, flux, params, expected: "sql" = exact translation, "finding" = left for a human)
CASES = [
    ("last-hour", f'from(bucket: "home") |> range(start: -1h) {CPU_USAGE}', None, "sql"),
    ("tag-equality", f'{ABS} {CPU_USAGE} |> filter(fn: (r) => r.host == "a")', None, "sql"),
    ("regex-or", f'{ABS} {CPU_USAGE} |> filter(fn: (r) => r.host == "a" or r.host =~ /^web/)', None, "sql"),
    (
        "pivot",
        f'{ABS} |> filter(fn: (r) => r._measurement == "temp") '
        '|> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")',
        None,
        "sql",
    ),
    (
        "fields-as-cols",
        'import "influxdata/influxdb/schema"\n'
        f'{ABS} |> filter(fn: (r) => r._measurement == "temp" and (r._field == "celsius" or r._field == "humidity"))'
        " |> schema.fieldsAsCols()",
        None,
        "sql",
    ),
    ("value-threshold", f"{ABS} {CPU_USAGE} |> filter(fn: (r) => r._value > 50.0)", None, "sql"),
    ("keep", f'{ABS} {CPU_USAGE} |> keep(columns: ["_time", "_value", "host"])', None, "sql"),
    (
        "drop-and-yield",
        f'{ABS} {CPU_USAGE} |> drop(columns: ["_start", "_stop"]) |> yield(name: "u")',
        None,
        "sql",
    ),
    (
        "latest-overall",
        f'{ABS} {CPU_USAGE} |> group() |> sort(columns: ["_time"], desc: true) |> limit(n: 3)',
        None,
        "sql",
    ),
    (
        "window-mean-per-host",
        f'{ABS} {CPU_USAGE} |> group(columns: ["host"]) |> aggregateWindow(every: 1m, fn: mean, createEmpty: false)',
        None,
        "sql",
    ),
    (
        "window-max-recent",
        f'from(bucket: "home") |> range(start: -1h) {CPU_USAGE} |> group(columns: ["host"]) '
        "|> aggregateWindow(every: 10m, fn: max, createEmpty: false)",
        None,
        "sql",
    ),
    ("max-per-host", f'{ABS} {CPU_USAGE} |> group(columns: ["host"]) |> max()', None, "sql"),
    ("sum-per-host", f'{ABS} {CPU_USAGE} |> group(columns: ["host"]) |> sum()', None, "sql"),
    ("count-all", f"{ABS} {CPU_USAGE} |> group() |> count()", None, "sql"),
    (
        "exists-contains",
        f'{ABS} |> filter(fn: (r) => r._measurement == "cpu" and r._field == "load") '
        '|> filter(fn: (r) => exists r.region and contains(value: r.host, set: ["a", "web1"]))',
        None,
        "sql",
    ),
    ("params", f"{ABS} {CPU_USAGE} |> filter(fn: (r) => r.host == params.host)", {"host": "b"}, "sql"),
    ("last-per-series", f"{ABS} {CPU_USAGE} |> last()", None, "finding"),
    ("window-create-empty", f"{ABS} {CPU_USAGE} |> aggregateWindow(every: 1m, fn: mean)", None, "finding"),
    ("limit-per-series", f"{ABS} {CPU_USAGE} |> limit(n: 2)", None, "finding"),
    ("derivative", f"{ABS} {CPU_USAGE} |> derivative(unit: 1s, nonNegative: true)", None, "finding"),
    ("no-measurement", f'{ABS} |> filter(fn: (r) => r._field == "usage")', None, "finding"),
    ("map", f"{ABS} {CPU_USAGE} |> map(fn: (r) => ({{r with _value: r._value * 2.0}}))", None, "finding"),
    (
        "dashboard-vars",
        'from(bucket: "home") |> range(start: v.timeRangeStart, stop: v.timeRangeStop)',
        None,
        "finding",
    ),
]


def _sql_rows(srv: InfluxDB3TestServer, sql: str, params: dict | None) -> pa.Table:
    """Run SQL the way influxdb3-python does: Flight DoGet with a JSON ticket, through the one port."""
    client = flight.FlightClient(f"grpc+tcp://127.0.0.1:{srv.port}")
    ticket = {"database": DB, "sql_query": sql, "query_type": "sql"}
    if params:
        ticket["params"] = params
    opts = flight.FlightCallOptions(headers=[(b"authorization", b"Bearer test-token")])
    try:
        return client.do_get(flight.Ticket(json.dumps(ticket).encode()), opts).read_all()
    finally:
        client.close()


def _facts_from_sql(table: pa.Table, fields: tuple[str, ...]) -> dict[tuple, list]:
    kinds = {f.name: (f.metadata or {}).get(b"iox::column::type", b"").decode() for f in table.schema}
    if "time" in table.column_names:
        table = table.set_column(
            table.column_names.index("time"), "time", table.column("time").cast(pa.int64())
        )
    out: dict[tuple, list] = defaultdict(list)
    for row in table.to_pylist():
        tags = tuple(
            sorted((k, v) for k, v in row.items() if kinds.get(k, "").endswith("::tag") and v is not None)
        )
        for name, value in row.items():
            is_field = kinds.get(name, "").startswith("iox::column_type::field")
            if is_field and (not fields or name in fields) and value is not None:
                out[(tags, name)].append((row.get("time"), value))
    return out


def _facts_from_flux(tables: list, fields: tuple[str, ...], field_names: set[str]) -> dict[tuple, list]:
    out: dict[tuple, list] = defaultdict(list)
    for t in tables:
        for row in t.rows:
            tags = tuple(
                sorted((k, v) for k, v in row.items() if not k.startswith("_") and k not in field_names)
            )
            if "_value" in row:
                field = row.get("_field", fields[0] if fields else None)
                out[(tags, field)].append((row.get("_time"), row["_value"]))
            else:
                for name in field_names:
                    if row.get(name) is not None:
                        out[(tags, name)].append((row.get("_time"), row[name]))
    return out


def _at_now(facts: dict[tuple, list], before: int) -> dict[tuple, list]:
    """Times at or after the query started are `now()` labels (the last window's clipped stop)."""
    return {
        k: [("now()" if isinstance(t, int) and t >= before else t, v) for t, v in rows]
        for k, rows in facts.items()
    }


@pytest.mark.parametrize(("name", "query", "params", "expected"), CASES, ids=[c[0] for c in CASES])
def test_flux_translation(
    server: InfluxDB3TestServer, name: str, query: str, params: dict | None, expected: str
) -> None:
    tr, why = try_translate(query)
    if expected == "finding":
        assert tr is None or not tr.exact, f"{name}: expected no exact translation, got {tr and tr.sql}"
        source = f"from influxdb_client import InfluxDBClient\nclient = InfluxDBClient(url='http://h:8181', token='t')\ntables = client.query_api().query({query!r})\n"
        _, findings = rewrite("influxdb3", source, path="svc/app/q.py")
        flux_findings = [f for f in findings if f.rule == "influxdb3/flux"]
        assert len(flux_findings) == 1, findings
        if tr is not None and tr.proposed:
            assert tr.proposed in flux_findings[0].message
            _sql_rows(server, tr.proposed, params)  # the proposal at least runs
        else:
            assert why in flux_findings[0].message
        return
    assert tr is not None and tr.exact, f"{name}: {why or tr.reason}"
    assert tr.database == DB
    before = time.time_ns()
    got_table = _sql_rows(server, tr.sql, params)
    want_tables = evaluate(query, server.store, params, now=time.time_ns())
    field_names = {f for m in ("cpu", "temp") for f in server.store.arrow(DB, m).column_names} - {
        "time",
        "host",
        "region",
        "room",
    }
    want = _at_now(_facts_from_flux(want_tables, tr.fields, field_names), before)
    got = _at_now(_facts_from_sql(got_table, tr.fields), before)
    assert want, f"{name}: the Flux selects no rows; the case proves nothing"
    # the same rows, and within each series the same order
    assert dict(got) == dict(want), f"{name}\nSQL: {tr.sql}\n got: {dict(got)}\nwant: {dict(want)}"


def test_table_has_enough_cases() -> None:
    assert len(CASES) >= 15
    assert sum(1 for c in CASES if c[3] == "sql") >= 10
