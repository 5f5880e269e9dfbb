"""The InfluxDB test double, exercised over plain HTTP."""

import csv
import gzip
import io
import json
import urllib.error
import urllib.request

import pytest

from homeiq_common.testing.fixtures import TEST_TOKEN
from homeiq_common.testing.influxdb import parse_line_protocol


def post(url, body, token=TEST_TOKEN, headers=None):
    request = urllib.request.Request(url, data=body, method="POST")
    if token:
        request.add_header("Authorization", f"Token {token}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status, response.read()


def test_line_protocol_types_and_escapes():
    (point,) = parse_line_protocol(
        'power\\ meter,entity_id=sensor.a\\,b,area=kitchen watts=12.5,count=3i,ok=t,note="say \\"hi\\"" 1700000000',
        precision="s",
    )
    assert point["measurement"] == "power meter"
    assert point["tags"] == {"entity_id": "sensor.a,b", "area": "kitchen"}
    assert point["fields"] == {"watts": 12.5, "count": 3, "ok": True, "note": 'say "hi"'}
    assert point["time"] == 1_700_000_000 * 10**9


def test_v2_write_and_v3_write_lp(influxdb):
    status, _ = post(f"{influxdb.url}/api/v2/write?org=homeiq&bucket=home&precision=ms",
                     b"temp,room=a value=21.5 1700000000000")
    assert status == 204
    body = gzip.compress(b"temp,room=b value=19.5,count=3i 1700000000")
    status, _ = post(f"{influxdb.url}/api/v3/write_lp?db=home&precision=second", body,
                     headers={"Content-Encoding": "gzip"})
    assert status == 204
    rows = influxdb.rows("home", "temp")
    assert [r["tags"]["room"] for r in rows] == ["a", "b"]
    assert rows[0]["time"] == rows[1]["time"] == 1_700_000_000 * 10**9
    assert rows[1]["fields"] == {"value": 19.5, "count": 3}
    assert influxdb.requests[1].body == b"temp,room=b value=19.5,count=3i 1700000000"


def test_same_series_and_time_merges_fields(influxdb):
    influxdb.write_line_protocol("home", "temp,room=a value=1.0 10\ntemp,room=a humidity=40i 10\ntemp,room=a value=2.0 10")
    assert influxdb.rows("home", "temp") == [{"time": 10, "tags": {"room": "a"}, "fields": {"value": 2.0, "humidity": 40}}]


def test_field_type_conflict_is_rejected_whole(influxdb):
    influxdb.write_line_protocol("home", "temp,room=a value=1.0 10")
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        post(f"{influxdb.url}/api/v2/write?bucket=home", b"temp,room=b value=2.0 20\ntemp,room=c value=3i 30")
    assert excinfo.value.code == 422
    assert "field type conflict" in json.loads(excinfo.value.read())["message"]
    assert [r["tags"]["room"] for r in influxdb.rows("home", "temp")] == ["a"]


def test_wrong_token_is_rejected(influxdb):
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        post(f"{influxdb.url}/api/v2/write?bucket=home", b"m f=1", token="nope")
    assert excinfo.value.code == 401
    assert influxdb.rows("home", "m") == []


def test_ping_reports_a_version(influxdb):
    with urllib.request.urlopen(f"{influxdb.url}/ping", timeout=5) as response:
        assert response.status == 204
        assert response.headers["X-Influxdb-Version"]


def test_flux_query_answers_annotated_csv(influxdb):
    influxdb.write_line_protocol(
        "home",
        "power,entity_id=sensor.kettle watts=2000.0,on=true\n"
        "power,entity_id=sensor.tv watts=90.0\n"
        "temp,entity_id=sensor.tv value=1.0",
    )
    flux = ('from(bucket: "home") |> range(start: -1h) '
            '|> filter(fn: (r) => r._measurement == "power" and r._field == "watts")')
    status, body = post(f"{influxdb.url}/api/v2/query?org=homeiq", json.dumps({"query": flux}).encode(),
                        headers={"Content-Type": "application/json"})
    assert status == 200
    rows = [r for r in csv.reader(io.StringIO(body.decode())) if r and not r[0].startswith("#")]
    data = [r for r in rows if r[1] != "result"]
    assert sorted((r[-1], r[6]) for r in data) == [("sensor.kettle", "2000.0"), ("sensor.tv", "90.0")]


def test_unsupported_flux_is_a_400(influxdb):
    flux = 'from(bucket: "home") |> range(start: -1h) |> mean()'
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        post(f"{influxdb.url}/api/v2/query", json.dumps({"query": flux}).encode())
    assert excinfo.value.code == 400


def test_flux_query_parameters_as_influxdb_client_sends_them(influxdb):
    influxdb.write_line_protocol("home", "power,entity_id=a watts=1.0\npower,entity_id=b watts=2.0")
    body = {
        "query": 'from(bucket: "home") |> range(start: -1h) |> filter(fn: (r) => r.entity_id == entity)',
        "extern": {"type": "File", "body": [{
            "type": "OptionStatement",
            "assignment": {"type": "VariableAssignment", "id": {"type": "Identifier", "name": "entity"},
                           "init": {"type": "StringLiteral", "value": "b"}},
        }]},
    }
    status, text = post(f"{influxdb.url}/api/v2/query", json.dumps(body).encode(),
                        headers={"Content-Type": "application/json"})
    rows = [r for r in csv.reader(io.StringIO(text.decode())) if r and not r[0].startswith("#") and r[1] != "result"]
    assert status == 200 and [(r[-1], r[6]) for r in rows] == [("b", "2.0")]
    del body["extern"]
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        post(f"{influxdb.url}/api/v2/query", json.dumps(body).encode())
    assert excinfo.value.code == 400
