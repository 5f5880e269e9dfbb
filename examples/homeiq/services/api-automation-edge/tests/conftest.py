import asyncio
import json

import pytest_asyncio
from asyncio_mqtt import Client
from homeiq_common.testing import mosquitto  # noqa: F401


@pytest_asyncio.fixture
async def edge_client(mosquitto):
    async with Client(*mosquitto, client_id="edge-under-test") as client:
        yield client


@pytest_asyncio.fixture
async def smart_plug(mosquitto):
    """A device that acknowledges commands on homeiq/cmd/garage/plug, ignoring the first *drop* of them."""
    state = {"drop": 0, "received": []}

    async def run(client):
        async with client.filtered_messages("homeiq/cmd/garage/plug") as commands:
            await client.subscribe("homeiq/cmd/garage/plug", qos=1)
            async for message in commands:
                command = json.loads(message.payload)
                state["received"].append(command)
                if len(state["received"]) <= state["drop"]:
                    continue
                ack = {"id": command["id"], "status": "ok", "state": command["action"]}
                await client.publish("homeiq/ack/garage/plug", json.dumps(ack), qos=1)

    async with Client(*mosquitto, client_id="smart-plug") as client:
        task = asyncio.create_task(run(client))
        await asyncio.sleep(0.1)
        yield state
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
