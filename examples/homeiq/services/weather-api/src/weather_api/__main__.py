"""``python -m weather_api``: publish every location's weather periodically and answer requests."""

import asyncio
import logging
import os

from weather_api.config import load_config
from weather_api.provider import HttpProvider
from weather_api.service import connect, publish_observation, serve_requests


async def run() -> None:
    config = load_config()
    provider = HttpProvider(config.provider_url)
    client = await connect(config.mqtt_host, config.mqtt_port)
    try:
        server = asyncio.create_task(serve_requests(client, provider))
        while not server.done():
            for location in config.locations:
                await publish_observation(client, provider, location)
            await asyncio.sleep(float(os.environ.get("WEATHER_INTERVAL_SECONDS", "600")))
    finally:
        await client.__aexit__(None, None, None)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    asyncio.run(run())
