"""The correlator against a real broker, all tests of this module in one event loop."""

import asyncio
import json

import pytest
import pytest_asyncio
from asyncio_mqtt import Client

from energy_correlator.correlate import Correlator
from energy_correlator.service import correlate

pytestmark = pytest.mark.asyncio(scope="module")


@pytest_asyncio.fixture(scope="module")
async def sensor_bus(mosquitto):
    host, port = mosquitto
    async with Client(host, port, client_id="correlator-test-bus") as client:
        yield client


async def publish_scenario(bus, area):
    await asyncio.sleep(0.2)  # let the correlator subscribe
    await bus.publish(f"homeiq/power/{area}/meter", b"100.0", qos=1)
    await bus.publish(f"homeiq/events/{area}/kettle", json.dumps({"state": "on"}), qos=1)
    await bus.publish(f"homeiq/power/{area}/meter", b"2100.0", qos=1)


async def test_kettle_switching_on_is_stored(mosquitto, sensor_bus, store, influxdb):
    host, port = mosquitto
    async with Client(host, port, client_id="correlator-under-test") as client:
        publisher = asyncio.create_task(publish_scenario(sensor_bus, "kitchen"))
        stored = await asyncio.wait_for(correlate(client, Correlator(), store, max_correlations=1), 5)
        await publisher
    assert stored == 1
    (row,) = influxdb.rows("energy", "energy_correlation")
    assert row["tags"] == {"device": "kitchen.kettle", "meter": "kitchen.meter", "state": "on"}
    assert row["fields"]["delta_watts"] == 2000.0
    assert isinstance(row["fields"]["lag_ms"], int)
    assert store.health() == {"last_write_attempts": 1}


async def test_the_bus_fixture_is_shared_by_the_module(sensor_bus):
    assert sensor_bus.id == "correlator-test-bus"
    await sensor_bus.publish("homeiq/power/garage/meter", b"5.0", qos=1)
