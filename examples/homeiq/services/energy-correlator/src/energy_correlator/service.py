"""The correlator service: one MQTT stream of power readings and device events."""

from __future__ import annotations

import json
import logging
import time

from asyncio_mqtt import Client
from homeiq_common.topics import parse_entity_topic

from energy_correlator.correlate import Correlator
from energy_correlator.storage import CorrelationStore

log = logging.getLogger(__name__)

SUBSCRIPTIONS = [("homeiq/power/#", 1), ("homeiq/events/#", 1)]


async def correlate(client: Client, correlator: Correlator, store: CorrelationStore,
                    max_correlations: int | None = None) -> int:
    """Consume readings and events until *max_correlations* were stored; return the count."""
    stored = 0
    async with client.unfiltered_messages() as messages:
        await client.subscribe(SUBSCRIPTIONS)
        async for message in messages:
            kind, area, entity = message.topic.split("/")[1:4]
            now_ms = time.time_ns() // 1_000_000
            if kind == "events":
                state = json.loads(message.payload).get("state", "")
                correlator.device_event(f"{area}.{entity}", state, now_ms)
                continue
            meter = parse_entity_topic(message.topic).entity_id
            result = correlator.power_reading(meter, float(message.payload), now_ms)
            if result is None:
                continue
            log.info("%s -> %s: %+.1f W", result.device, result.meter, result.delta_watts)
            store.save(result, now_ms)
            stored += 1
            if max_correlations is not None and stored >= max_correlations:
                return stored
    return stored
