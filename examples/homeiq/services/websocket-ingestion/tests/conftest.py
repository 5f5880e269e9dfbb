import pytest
from asyncio_mqtt import Client
from homeiq_common.settings import load_settings
from homeiq_common.testing import influxdb, mosquitto, mqtt_topic_prefix  # noqa: F401
from homeiq_common.testing.fixtures import TEST_TOKEN
from influxdb_client import InfluxDBClient


@pytest.fixture
def settings(mosquitto, influxdb):
    host, port = mosquitto
    return load_settings(
        None,
        environ={},
        service_name="websocket-ingestion-test",
        mqtt_host=host,
        mqtt_port=port,
        influx_url=influxdb.url,
        influx_token=TEST_TOKEN,
    )


@pytest.fixture
def influx_client(settings):
    with InfluxDBClient(url=settings.influx_url, token=settings.influx_token, org=settings.influx_org) as client:
        yield client


@pytest.fixture
async def publisher(mosquitto):
    host, port = mosquitto
    async with Client(host, port, client_id="ingestion-test-publisher") as client:
        yield client
