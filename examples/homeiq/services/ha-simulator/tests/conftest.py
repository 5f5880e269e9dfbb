import pytest
from asyncio_mqtt import Client
from homeiq_common.testing import mosquitto  # noqa: F401

from ha_simulator.publisher import Simulator


@pytest.fixture
async def simulator(mosquitto):
    sim = Simulator(*mosquitto, client_id="ha-simulator-test")
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
async def listener(mosquitto):
    host, port = mosquitto
    async with Client(host, port, client_id="ha-simulator-listener") as client:
        yield client
