from datetime import timedelta

from conftest import START

from usage_reports import power
from usage_reports.climate import ClimateReports


def test_room_readings_by_field(db):
    readings = ClimateReports(db).room_readings("kitchen", START, START + timedelta(hours=1))
    assert sorted(readings) == ["celsius", "humidity"]
    assert [v for _t, v in readings["celsius"]] == [20.0, 20.25, 20.5, 20.75, 21.0, 21.25]
    assert readings["humidity"][0][0] == START
    assert readings["humidity"][0][0].utcoffset() == timedelta(0)


def test_latest_by_room_reads_the_canned_query(db):
    latest = ClimateReports(db).latest_by_room()
    assert sorted(latest) == ["kitchen", "office"]
    assert latest["kitchen"]["celsius"] == 25.75
    assert latest["office"]["humidity"] == 42.0
    assert latest["office"]["at"] == START + timedelta(minutes=230, seconds=1)


def test_series_in_server_order(db):
    stop = START + timedelta(minutes=30)
    series = db.series(
        f'from(bucket: "home") |> range(start: {START.isoformat()}, stop: {stop.isoformat()}) '
        '|> filter(fn: (r) => r._measurement == "power" and r._field == "watts" and r.circuit == "main")'
    )
    assert [(t - START, f, v) for t, f, v in series] == [
        (timedelta(seconds=2), "watts", 250.0),
        (timedelta(seconds=602), "watts", 260.0),
        (timedelta(seconds=1202), "watts", 270.0),
    ]


def test_circuit_readings(db):
    readings = power.circuit_readings(db, "heat", START, START + timedelta(hours=1))
    assert [v for _t, v in readings] == [1500.0, 1480.0, 1460.0, 1440.0, 1420.0, 1400.0]
    assert readings[0][0] == START + timedelta(seconds=3)
