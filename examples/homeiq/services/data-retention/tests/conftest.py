import pytest
from homeiq_common.testing import influxdb  # noqa: F401
from homeiq_common.testing.fixtures import TEST_TOKEN


@pytest.fixture
def influx_env(monkeypatch, influxdb):
    monkeypatch.setenv("INFLUXDB_V2_URL", influxdb.url)
    monkeypatch.setenv("INFLUXDB_V2_TOKEN", TEST_TOKEN)
    monkeypatch.setenv("INFLUXDB_V2_ORG", "homeiq")
    return influxdb
