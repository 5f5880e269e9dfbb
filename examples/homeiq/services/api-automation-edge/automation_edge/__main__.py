"""``python -m automation_edge``: dispatch commands posted on ``homeiq/edge/commands`` (JSON)."""

import asyncio
import json
import logging

from asyncio_mqtt import Client

from automation_edge import settings
from automation_edge.dispatch import Command, Dispatcher, InvalidCommand


async def run() -> None:
    async with Client(settings.MQTT_HOST, settings.MQTT_PORT, client_id="api-automation-edge") as inbox, \
            Client(settings.MQTT_HOST, settings.MQTT_PORT, client_id="api-automation-edge-out") as outbox:
        dispatcher = Dispatcher(outbox, settings.ACK_TIMEOUT)
        async with inbox.unfiltered_messages() as messages:
            await inbox.subscribe("homeiq/edge/commands", qos=1)
            async for message in messages:
                try:
                    result = await dispatcher.dispatch(Command(**json.loads(message.payload)))
                except (InvalidCommand, TypeError, ValueError) as error:
                    result = {"status": "rejected", "reason": str(error)}
                await inbox.publish("homeiq/edge/results", json.dumps(result), qos=1)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    asyncio.run(run())
