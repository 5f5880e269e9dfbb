import time

import pytest
from homeiq_common.testing import influxdb  # noqa: F401
from homeiq_common.testing.fixtures import TEST_TOKEN
from influxdb_client import InfluxDBClient

from data_api.config import InfluxConfig
from data_api.history import HistoryService


def pytest_report_header(config, startdir):
    return f"data-api tests in {startdir.basename}"


@pytest.fixture
def config(influxdb):
    return InfluxConfig(url=influxdb.url, token=TEST_TOKEN, org="homeiq", bucket="home")


@pytest.fixture
def seeded(influxdb):
    now = time.time_ns()
    minute = 60 * 10**9
    influxdb.write_line_protocol(
        "home",
        "\n".join([
            f"ha_state,domain=sensor,entity_id=sensor.kitchen_temperature value=20.5 {now - 30 * minute}",
            f"ha_state,domain=sensor,entity_id=sensor.kitchen_temperature value=21.0 {now - 5 * minute}",
            f"ha_state,domain=sensor,entity_id=sensor.hall_temperature value=18.0 {now - 5 * minute}",
            f"power,entity_id=switch.kettle watts=1800.0 {now - 4 * minute}",
            f"power,entity_id=switch.kettle watts=2200.0 {now - 3 * minute}",
            f"power,entity_id=light.hall watts=9.5 {now - 2 * minute}",
            f"power,entity_id=light.hall watts=9.5 {now - 3 * 3600 * 10**9}",
        ]),
    )
    return influxdb


@pytest.fixture
def history(config, seeded):
    with InfluxDBClient(url=config.url, token=config.token, org=config.org) as client:
        yield HistoryService(client, config)
