"""The registry: devices and their entities, from ``homeassistant/<component>/<node>/config``."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

from asyncio_mqtt import Client, MqttError
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

log = logging.getLogger(__name__)

DISCOVERY_FILTER = "homeassistant/+/+/config"


@dataclass
class Device:
    identifier: str
    name: str
    manufacturer: str | None = None
    model: str | None = None
    entities: dict[str, str] = field(default_factory=dict)  # unique_id -> component


class Registry:
    def __init__(self) -> None:
        self.devices: dict[str, Device] = {}
        self.entity_owner: dict[str, str] = {}

    def apply(self, component: str, node: str, payload: bytes) -> Device | None:
        """Apply one discovery config; an empty payload removes the entity."""
        if not payload:
            owner = self.entity_owner.pop(node, None)
            if owner is not None:
                self.devices[owner].entities.pop(node, None)
                if not self.devices[owner].entities:
                    del self.devices[owner]
            return None
        config = json.loads(payload)
        info = config.get("device") or {}
        identifiers = info.get("identifiers") or [node]
        identifier = identifiers[0] if isinstance(identifiers, list) else identifiers
        device = self.devices.get(identifier)
        if device is None:
            device = Device(identifier, info.get("name", identifier), info.get("manufacturer"), info.get("model"))
            self.devices[identifier] = device
        unique_id = config.get("unique_id", node)
        device.entities[unique_id] = component
        self.entity_owner[unique_id] = identifier
        return device


@retry(stop=stop_after_attempt(3), wait=wait_exponential(multiplier=0.01, max=0.05),
       retry=retry_if_exception_type(MqttError), reraise=True)
async def publish_summary(client: Client, registry: Registry) -> dict:
    """Publish the retained registry summary on ``homeiq/registry/summary``."""
    summary = {
        "devices": len(registry.devices),
        "entities": len(registry.entity_owner),
        "by_manufacturer": _count(d.manufacturer or "unknown" for d in registry.devices.values()),
    }
    await client.publish("homeiq/registry/summary", json.dumps(summary, sort_keys=True), qos=1, retain=True)
    return summary


def _count(values) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return dict(sorted(counts.items()))


async def sync_registry(client: Client, registry: Registry, expected: int) -> Registry:
    """Read retained discovery configs until *expected* entities are known."""
    log.info("registry sync as %s", client.id)
    async with client.filtered_messages(DISCOVERY_FILTER) as messages:
        await client.subscribe("homeassistant/#", qos=1)
        async for message in messages:
            _, component, node, _ = message.topic.split("/")
            try:
                registry.apply(component, node, message.payload)
            except json.JSONDecodeError:
                log.warning("ignoring invalid discovery payload on %s", message.topic)
                continue
            if len(registry.entity_owner) >= expected:
                break
    await client.unsubscribe("homeassistant/#")
    return registry
