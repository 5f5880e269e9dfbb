import asyncio
import logging

from asyncio_mqtt import Client, MqttError

from relay.mapping import map_topic, normalise

log = logging.getLogger(__name__)


def make_clients(settings):
    """Both ends of the relay; nothing connects until they are entered."""
    source = Client(settings.source_host, port=settings.source_port, client_id="relay-source")
    target = Client(settings.target_host, port=settings.target_port, client_id="relay-target")
    return source, target


async def forward(message, target, prefix):
    topic = map_topic(str(message.topic), prefix)
    try:
        payload = normalise(message.payload)
    except ValueError as err:
        log.warning("dropping %s: %s", message.topic, err)
        return None
    await target.publish(topic, payload, qos=1)
    return topic


async def run(settings):  # pragma: no cover - needs a broker
    source, target = make_clients(settings)
    async with source, target:
        async with source.filtered_messages(settings.topics[0]) as messages:
            for topic in settings.topics:
                await source.subscribe(topic)
            async for message in messages:
                await forward(message, target, settings.prefix)


def main():  # pragma: no cover
    from relay.settings import load

    settings = load()
    while True:
        try:
            asyncio.run(run(settings))
        except MqttError as err:
            log.error("connection lost (%s); reconnecting in 3 s", err)
            asyncio.run(asyncio.sleep(3))
