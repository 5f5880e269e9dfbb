import pytest_asyncio
from asyncio_mqtt import Client
from homeiq_common.testing import mosquitto, mqtt_topic_prefix  # noqa: F401


@pytest_asyncio.fixture(scope="session")
async def bus(mosquitto):
    """One MQTT connection for the whole session (runs in the session event loop)."""
    host, port = mosquitto
    async with Client(host, port, client_id="registry-test-bus") as client:
        yield client
