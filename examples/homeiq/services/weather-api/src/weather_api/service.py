"""Publishing observations and answering on-demand requests over MQTT (aiomqtt 2)."""

from __future__ import annotations

import asyncio
import logging

import aiomqtt
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from weather_api.provider import Provider, fetch_current

log = logging.getLogger(__name__)

REQUESTS = "homeiq/weather/request/+"


async def publish_observation(client: aiomqtt.Client, provider: Provider, location: str) -> dict[str, str]:
    observation = await asyncio.to_thread(fetch_current, provider, location)
    metrics = observation.metrics()
    for metric, value in metrics.items():
        await client.publish(f"homeiq/weather/{location}/{metric}", value, qos=1, retain=True)
    return metrics


async def serve_requests(client: aiomqtt.Client, provider: Provider, max_requests: int | None = None) -> int:
    """Answer ``homeiq/weather/request/<location>`` by (re)publishing that location's weather."""
    served = 0
    await client.subscribe(REQUESTS, qos=1)
    async for message in client.messages:
        if not message.topic.matches(REQUESTS):
            continue
        location = message.topic.value.split("/")[-1]
        await publish_observation(client, provider, location)
        served += 1
        if max_requests is not None and served >= max_requests:
            break
    await client.unsubscribe(REQUESTS)
    return served


async def connect(host: str, port: int) -> aiomqtt.Client:
    """Return a connected client, retrying while the broker comes up; the caller must close it."""
    async for attempt in AsyncRetrying(
        stop=stop_after_attempt(3),
        wait=wait_exponential(multiplier=0.01, max=0.05),
        retry=retry_if_exception_type(aiomqtt.MqttError),
        reraise=True,
    ):
        with attempt:
            client = aiomqtt.Client(host, port, identifier="weather-api")
            await client.__aenter__()
            return client
    raise AssertionError("unreachable")
