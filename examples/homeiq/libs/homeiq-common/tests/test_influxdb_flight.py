"""The InfluxDB test double's query side for influxdb3-python: Arrow Flight DoGet on the HTTP port."""

import json
import subprocess
import sys
import urllib.request

import pytest

flight = pytest.importorskip("pyarrow.flight")
pytest.importorskip("datafusion")
import pyarrow as pa  # noqa: E402

from homeiq_common.testing.fixtures import TEST_TOKEN  # noqa: E402
from homeiq_common.testing.influxdb import InfluxDBTestServer  # noqa: E402

SEED = "\n".join([
    "power,entity_id=switch.kettle,area=kitchen watts=1800.0,on=true 1700000000000000000",
    "power,entity_id=switch.kettle,area=kitchen watts=2200.0,on=true 1700000060000000000",
    "power,entity_id=light.hall watts=9.5,on=false,count=3i 1700000030000000000",
])


def do_get(server, sql, token=TEST_TOKEN, database="home", query_type="sql", params=None):
    """A query exactly as influxdb3-python sends it: one DoGet, JSON ticket, Bearer token."""
    client = flight.FlightClient(f"grpc+tcp://127.0.0.1:{server.port}")
    ticket = {"database": database, "sql_query": sql, "query_type": query_type}
    if params:
        ticket["params"] = params
    options = flight.FlightCallOptions(headers=[(b"authorization", f"Bearer {token}".encode())])
    try:
        return client.do_get(flight.Ticket(json.dumps(ticket).encode()), options).read_all()
    finally:
        client.close()


@pytest.fixture
def seeded(influxdb):
    influxdb.write_line_protocol("home", SEED)
    return influxdb


def test_flight_and_http_share_one_port(seeded):
    assert seeded.flight
    request = urllib.request.Request(f"{seeded.url}/api/v2/write?bucket=home", method="POST",
                                     data=b"power,entity_id=fan watts=30.0 1700000090000000000",
                                     headers={"Authorization": f"Token {TEST_TOKEN}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 204
    table = do_get(seeded, 'SELECT entity_id, watts FROM power WHERE entity_id = \'fan\'')
    assert table.to_pylist() == [{"entity_id": "fan", "watts": 30.0}]
    assert seeded.tickets[-1] == {"database": "home", "sql_query": "SELECT entity_id, watts FROM power "
                                  "WHERE entity_id = 'fan'", "query_type": "sql"}
    assert seeded.flight_headers[-1]["authorization"] == f"Bearer {TEST_TOKEN}"


def test_tables_have_the_influxdb3_shape(seeded):
    table = do_get(seeded, "SELECT * FROM power ORDER BY time")
    schema = table.schema
    assert schema.field("time").type == pa.timestamp("ns")  # tz-naive, as InfluxDB 3 returns it
    assert schema.field("entity_id").type == pa.string()
    assert (schema.field("watts").type, schema.field("on").type, schema.field("count").type) == (
        pa.float64(), pa.bool_(), pa.int64())
    kinds = {f.name: f.metadata[b"iox::column::type"].decode() for f in schema}
    assert kinds == {
        "area": "iox::column_type::tag",
        "count": "iox::column_type::field::integer",
        "entity_id": "iox::column_type::tag",
        "on": "iox::column_type::field::boolean",
        "time": "iox::column_type::timestamp",
        "watts": "iox::column_type::field::float",
    }
    rows = table.to_pylist()
    assert [(r["entity_id"], r["area"], r["watts"], r["count"]) for r in rows] == [
        ("switch.kettle", "kitchen", 1800.0, None),
        ("light.hall", None, 9.5, 3),
        ("switch.kettle", "kitchen", 2200.0, None),
    ]


def test_sql_runs_with_datafusion_and_parameters(seeded):
    table = do_get(seeded, "SELECT entity_id, avg(watts) AS watts FROM power WHERE time >= $since "
                   "GROUP BY entity_id ORDER BY entity_id", params={"since": "2023-11-14T22:13:00Z"})
    assert table.to_pylist() == [{"entity_id": "light.hall", "watts": 9.5},
                                 {"entity_id": "switch.kettle", "watts": 2000.0}]


@pytest.mark.parametrize(
    ("kwargs", "error", "text"),
    [
        ({"token": "wrong"}, "FlightUnauthenticatedError", "bearer token"),
        ({"database": "nope"}, "FlightServerError", "database not found"),
        ({"query_type": "influxql"}, "FlightServerError", "InfluxQL"),
        ({"sql": "SELECT nope FROM power"}, "FlightServerError", "nope"),
    ],
    ids=["bad-token", "unknown-database", "influxql", "bad-sql"],
)
def test_refusals(seeded, kwargs, error, text):
    sql = kwargs.pop("sql", "SELECT * FROM power")
    with pytest.raises(getattr(flight, error)) as excinfo:
        do_get(seeded, sql, **kwargs)
    assert text in str(excinfo.value)


def test_without_pyarrow_only_the_http_side_runs():
    code = (
        "import sys, urllib.request\n"
        "sys.modules['pyarrow'] = None\n"
        "from homeiq_common.testing.influxdb import InfluxDBTestServer, flight_available\n"
        "assert not flight_available()\n"
        "with InfluxDBTestServer() as server:\n"
        "    assert not server.flight\n"
        "    with urllib.request.urlopen(server.url + '/ping', timeout=5) as response:\n"
        "        assert response.status == 204\n"
        "assert 'homeiq_common.testing.influxdb.flight' not in sys.modules\n"
        "print('http-only')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "http-only", result.stderr


def test_stop_releases_the_port():
    server = InfluxDBTestServer().start()
    port = server.port
    server.stop()
    again = InfluxDBTestServer(port=port).start()
    try:
        assert again.port == port
    finally:
        again.stop()
