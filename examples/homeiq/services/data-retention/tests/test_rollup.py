import time
from datetime import datetime, timezone

from conftest import set_influx_env
from influxdb_client.client.write_api import SYNCHRONOUS

from data_retention.main import main, make_client
from data_retention.rollup import RollupJob, Sample

HOUR_NS = 3600 * 10**9


def seed(influxdb):
    this_hour = time.time_ns() // HOUR_NS * HOUR_NS
    previous = this_hour - HOUR_NS
    influxdb.write_line_protocol("home", "\n".join([
        f"ha_state,entity_id=sensor.a value=10.0 {previous + 60 * 10**9}",
        f"ha_state,entity_id=sensor.a value=20.0 {previous + 120 * 10**9}",
        f"ha_state,entity_id=sensor.a value=30.0 {this_hour + 1}",
        f"ha_state,entity_id=sensor.b value=5.0 {previous + 1}",
        f'ha_state,entity_id=switch.c state="on" {previous + 1}',
    ]))
    return previous


def test_client_comes_from_the_environment(influx_env):
    with make_client() as client:
        client.write_api(write_options=SYNCHRONOUS).write(bucket="home", record="probe ok=1i")
    assert [r["fields"] for r in influx_env.rows("home", "probe")] == [{"ok": 1}]
    assert influx_env.requests[-1].query["org"] == "homeiq"


def test_rollup_writes_one_record_per_entity_and_hour(influx_env):
    previous = seed(influx_env)
    assert main() == 3
    rows = influx_env.rows("home_rollup", "ha_state_hourly")
    by_key = {(r["tags"]["entity_id"], r["time"]): r["fields"] for r in rows}
    assert by_key[("sensor.a", previous)] == {"mean": 15.0, "min": 10.0, "max": 20.0, "count": 2}
    assert by_key[("sensor.a", previous + 3600 * 10**9)]["count"] == 1
    assert by_key[("sensor.b", previous)]["mean"] == 5.0


def test_aggregate_groups_by_hour():
    t = datetime(2024, 5, 1, 10, 59, tzinfo=timezone.utc)
    buckets = RollupJob.aggregate([Sample("x", t, 1.0), Sample("x", t.replace(minute=1), 3.0)])
    assert buckets == {("x", datetime(2024, 5, 1, 10, tzinfo=timezone.utc)): [1.0, 3.0]}


def test_unreachable_influxdb_skips_the_run(monkeypatch, caplog):
    from homeiq_common.testing import free_port

    set_influx_env(monkeypatch, f"http://127.0.0.1:{free_port()}")
    with make_client(retries=False) as client:
        job = RollupJob(client, "home", "home_rollup")
        assert job.run() == 0
    assert "skipping this run" in caplog.text
