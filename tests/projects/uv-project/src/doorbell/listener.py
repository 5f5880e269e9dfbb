import asyncio
import json
import logging
import os
from dataclasses import dataclass

import asyncio_mqtt as aiomqtt
from dotenv import load_dotenv
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

log = logging.getLogger(__name__)

TOPIC = "home/doorbell/+/pressed"


@dataclass(frozen=True)
class Ring:
    door: str
    battery: int


def parse(topic: str, payload: bytes) -> Ring:
    door = topic.split("/")[2]
    data = json.loads(payload or b"{}")
    return Ring(door=door, battery=int(data.get("battery", 100)))


def client_from_env() -> aiomqtt.Client:
    load_dotenv()
    return aiomqtt.Client(
        hostname=os.getenv("MQTT_HOST", "localhost"),
        port=int(os.getenv("MQTT_PORT", "1883")),
        username=os.getenv("MQTT_USER") or None,
        password=os.getenv("MQTT_PASSWORD") or None,
        client_id="doorbell-listener",
        keepalive=30,
    )


@retry(stop=stop_after_attempt(5), wait=wait_exponential(multiplier=0.5, max=10),
       retry=retry_if_exception_type(aiomqtt.MqttError), reraise=True)
async def listen(notify, client_factory=client_from_env):  # pragma: no cover - needs a broker
    async with client_factory() as client:
        async with client.unfiltered_messages() as messages:
            await client.subscribe(TOPIC, qos=1)
            async for message in messages:
                ring = parse(message.topic, message.payload)
                await notify(ring)


async def notify_all(ring: Ring, phones, send) -> int:
    results = await asyncio.gather(*(send(phone, f"Someone at the {ring.door} door") for phone in phones),
                                   return_exceptions=True)
    failures = [r for r in results if isinstance(r, Exception)]
    for failure in failures:
        log.warning("push failed: %s", failure)
    return len(results) - len(failures)
