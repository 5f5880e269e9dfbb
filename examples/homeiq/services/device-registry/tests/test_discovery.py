import asyncio
import json

import pytest
from asyncio_mqtt import Client

from device_registry.registry import Registry, publish_summary, sync_registry
from tests.test_registry import discovery


@pytest.mark.asyncio
async def test_bus_lives_in_the_session_loop(bus):
    assert asyncio.get_running_loop() is asyncio.get_event_loop()
    assert bus.id == "registry-test-bus"


@pytest.mark.asyncio
async def test_sync_reads_retained_discovery_configs(bus, mosquitto):
    await bus.publish("homeassistant/sensor/plug_power/config", discovery("plug-7", "plug_power"), qos=1, retain=True)
    await bus.publish("homeassistant/switch/plug_relay/config", discovery("plug-7", "plug_relay"), qos=1, retain=True)
    await bus.publish("homeassistant/light/hall/config", discovery("hue-1", "hall", "Signify"), qos=1, retain=True)
    await bus.publish("homeassistant/status", b"online", qos=1)  # not a discovery topic

    host, port = mosquitto
    async with Client(host, port, client_id="registry-under-test") as client:
        registry = await asyncio.wait_for(sync_registry(client, Registry(), expected=3), 5)
        summary = await publish_summary(client, registry)

    assert summary == {"by_manufacturer": {"Shelly": 1, "Signify": 1}, "devices": 2, "entities": 3}
    assert sorted(registry.devices["plug-7"].entities) == ["plug_power", "plug_relay"]


@pytest.mark.asyncio
async def test_summary_is_retained(bus):
    registry = Registry()
    registry.apply("sensor", "x", discovery("dev-x", "x", "Aqara"))
    await publish_summary(bus, registry)
    async with bus.filtered_messages("homeiq/registry/summary") as messages:
        await bus.subscribe("homeiq/registry/summary")
        async for message in messages:
            assert json.loads(message.payload)["by_manufacturer"] == {"Aqara": 1}
            break
    await bus.unsubscribe("homeiq/registry/summary")
