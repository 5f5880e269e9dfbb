"""``python -m rag_service``: index documents and answer questions from ``homeiq/rag/ask/<id>``."""

import asyncio
import logging

from asyncio_mqtt import Client

from rag_service import settings
from rag_service.service import DOCS, answer
from rag_service.store import DocumentStore


async def run() -> None:
    store = DocumentStore()
    async with Client(settings.MQTT_HOST, settings.MQTT_PORT, client_id="rag-service") as client:
        async with client.messages() as messages:
            await client.subscribe([(DOCS, 1), ("homeiq/rag/ask/+", 1)])
            async for message in messages:
                topic = str(message.topic)
                if topic.startswith("homeiq/rag/ask/"):
                    await answer(client, store, topic.rsplit("/", 1)[1], message.payload.decode())
                else:
                    _, _, collection, doc_id = topic.split("/")
                    store.add(collection, doc_id, message.payload.decode())


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    asyncio.run(run())
