"""Replay a CSV of (topic,payload) rows into a broker, one row every --delay seconds."""
import asyncio
import csv
import os
import sys

from asyncio_mqtt import Client
from dotenv import load_dotenv


async def replay(path, delay=0.1):
    load_dotenv()
    async with Client(os.getenv("MQTT_HOST", "localhost")) as client:
        with open(path, newline="") as fh:
            for topic, payload in csv.reader(fh):
                await client.publish(topic, payload)
                await asyncio.sleep(delay)


if __name__ == "__main__":
    asyncio.run(replay(sys.argv[1]))
