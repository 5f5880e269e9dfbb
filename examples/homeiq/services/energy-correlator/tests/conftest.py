import pytest
from homeiq_common.testing import influxdb, mosquitto  # noqa: F401
from homeiq_common.testing.fixtures import TEST_TOKEN
from influxdb_client import InfluxDBClient

from energy_correlator.storage import CorrelationStore


@pytest.fixture
def store(influxdb):
    with InfluxDBClient(url=influxdb.url, token=TEST_TOKEN, org="homeiq") as client:
        yield CorrelationStore(client, bucket="energy", org="homeiq")
