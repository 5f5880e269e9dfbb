"""``ha-simulator``: publish a reading per sensor every few seconds."""

import asyncio
import logging
import os
import time


async def _run() -> None:
    from ha_simulator.publisher import Simulator

    simulator = Simulator(os.environ.get("MQTT_HOST", "127.0.0.1"), int(os.environ.get("MQTT_PORT", "1883")))
    await simulator.start()
    try:
        while True:
            now = time.localtime()
            await simulator.tick(now.tm_hour * 60 + now.tm_min)
            await asyncio.sleep(float(os.environ.get("TICK_SECONDS", "5")))
    finally:
        await simulator.stop()


def main() -> None:
    logging.basicConfig(level=logging.INFO)
    asyncio.run(_run())
