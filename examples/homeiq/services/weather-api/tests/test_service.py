import asyncio

import aiomqtt
import pytest

from tests.conftest import unused_port
from weather_api.service import connect, publish_observation, serve_requests


async def read_retained(host, port, topic_filter, count):
    values = {}
    async with aiomqtt.Client(host, port, identifier="weather-test-reader") as reader:
        await reader.subscribe(topic_filter, qos=1)
        async for message in reader.messages:
            values[message.topic.value] = message.payload.decode()
            if len(values) == count:
                return values


async def test_observation_is_published_retained(mosquitto, provider):
    client = await connect(*mosquitto)
    try:
        await publish_observation(client, provider, "home")
    finally:
        await client.__aexit__(None, None, None)
    values = await asyncio.wait_for(read_retained(*mosquitto, "homeiq/weather/home/+", 4), 5)
    assert values["homeiq/weather/home/temperature"] == "18.0"
    assert values["homeiq/weather/home/condition"] == "cloudy"


async def test_requests_are_answered(mosquitto, provider):
    host, port = mosquitto
    async with aiomqtt.Client(host, port, identifier="weather-api-test") as client:
        server = asyncio.create_task(serve_requests(client, provider, max_requests=1))
        async with aiomqtt.Client(host, port, identifier="weather-test-requester") as requester:
            await asyncio.sleep(0.1)
            await requester.publish("homeiq/weather/status", b"ignored", qos=1)
            await requester.publish("homeiq/weather/request/cabin", b"", qos=1)
            assert await asyncio.wait_for(server, 5) == 1
    values = await asyncio.wait_for(read_retained(host, port, "homeiq/weather/cabin/#", 4), 5)
    assert values["homeiq/weather/cabin/temperature"] == "3.2"


async def test_connect_gives_up_without_broker():
    with pytest.raises(aiomqtt.MqttError):
        await connect("127.0.0.1", unused_port())
