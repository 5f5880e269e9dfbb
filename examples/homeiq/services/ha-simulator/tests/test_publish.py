import asyncio

import pytest
from asyncio_mqtt import MqttError

from ha_simulator.publisher import Simulator


async def collect(listener, topic_filter, count):
    received = {}
    async with listener.messages() as messages:
        await listener.subscribe(topic_filter, qos=1)
        async for message in messages:
            received[str(message.topic)] = float(message.payload)
            if len(received) == count:
                return received


async def test_tick_publishes_every_sensor(simulator, listener):
    collector = asyncio.create_task(collect(listener, "homeiq/+/+/+", 4))
    await asyncio.sleep(0.1)
    sent = await simulator.tick(minute_of_day=8 * 60)
    assert await asyncio.wait_for(collector, 5) == sent
    assert simulator.published == 4


async def test_power_only_subscription(simulator, listener):
    collector = asyncio.create_task(collect(listener, "homeiq/power/#", 2))
    await asyncio.sleep(0.1)
    sent = await simulator.tick(minute_of_day=0)
    received = await asyncio.wait_for(collector, 5)
    assert set(received) == {"homeiq/power/kitchen/fridge", "homeiq/power/office/desk"}
    assert received == {topic: value for topic, value in sent.items() if topic in received}


async def test_connect_fails_without_broker():
    from homeiq_common.testing import free_port

    simulator = Simulator("127.0.0.1", free_port())
    with pytest.raises(MqttError):
        await simulator.start()
