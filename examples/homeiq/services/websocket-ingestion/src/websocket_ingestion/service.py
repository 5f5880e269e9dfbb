"""The ingestion loop: MQTT in, InfluxDB out."""

from __future__ import annotations

import asyncio
import logging

from asyncio_mqtt import Client, MqttError, Will
from homeiq_common.settings import Settings
from homeiq_common.topics import status_topic
from influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS
from tenacity import retry_if_exception_type, stop_after_attempt, wait_exponential
from tenacity._asyncio import AsyncRetrying

from websocket_ingestion.events import parse_event, to_line_protocol

log = logging.getLogger(__name__)

EVENT_FILTER = "homeiq/events/+/+"
EVENT_SUBSCRIPTION = "homeiq/events/#"


def build_mqtt_client(settings: Settings) -> Client:
    """An MQTT client that leaves a retained "offline" status behind when it dies."""
    will = Will(status_topic(settings.service_name), payload=b"offline", qos=1, retain=True)
    return Client(
        settings.mqtt_host,
        settings.mqtt_port,
        client_id=settings.service_name,
        will=will,
        keepalive=30,
    )


class IngestionService:
    """Writes every state change seen on ``homeiq/events/<domain>/<object_id>`` to InfluxDB."""

    def __init__(self, settings: Settings, influx: InfluxDBClient) -> None:
        self.settings = settings
        self.write_api = influx.write_api(write_options=SYNCHRONOUS)
        self.ingested = 0
        self.rejected = 0

    def store(self, line: str) -> None:
        self.write_api.write(bucket=self.settings.influx_bucket, org=self.settings.influx_org, record=line)

    async def consume(self, client: Client, max_events: int | None = None,
                      ready: asyncio.Event | None = None) -> int:
        """Ingest events until *max_events* were stored (or forever); return how many were stored."""
        log.info("consuming events as MQTT client %r", client.id)
        await client.publish(status_topic(self.settings.service_name), b"online", qos=1, retain=True)
        async with client.filtered_messages(EVENT_FILTER) as messages:
            await client.subscribe(EVENT_SUBSCRIPTION, qos=1)
            if ready is not None:
                ready.set()
            async for message in messages:
                _, _, domain, object_id = message.topic.split("/")
                try:
                    event = parse_event(domain, object_id, message.payload)
                except ValueError:
                    self.rejected += 1
                    log.warning("dropping malformed event on %s", message.topic)
                    continue
                self.store(to_line_protocol(event))
                self.ingested += 1
                if max_events is not None and self.ingested >= max_events:
                    break
        return self.ingested

    async def run(self, max_events: int | None = None, ready: asyncio.Event | None = None) -> int:
        """Connect (retrying while the broker is unreachable) and consume."""
        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(3),
            wait=wait_exponential(multiplier=0.01, max=0.05),
            retry=retry_if_exception_type(MqttError),
            reraise=True,
        ):
            with attempt:
                async with build_mqtt_client(self.settings) as client:
                    return await self.consume(client, max_events, ready)
        raise AssertionError("unreachable")
