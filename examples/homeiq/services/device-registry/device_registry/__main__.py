"""``python -m device_registry``: rebuild the registry from retained discovery configs, publish a summary."""

import asyncio
import logging
import os

from asyncio_mqtt import Client
from homeiq_common.settings import load_settings

from device_registry.registry import Registry, publish_summary, sync_registry


async def run() -> None:
    settings = load_settings(None, service_name="device-registry")
    async with Client(settings.mqtt_host, settings.mqtt_port, client_id="device-registry") as client:
        registry = await sync_registry(client, Registry(), expected=int(os.environ.get("EXPECTED_ENTITIES", "1")))
        await publish_summary(client, registry)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    asyncio.run(run())
