"""MQTT side of the RAG service: documents in, answers out."""

from __future__ import annotations

import json
import logging

from asyncio_mqtt import Client, MqttError
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from rag_service import settings
from rag_service.store import DocumentStore

log = logging.getLogger(__name__)

DOCS = "homeiq/docs/#"


async def ingest(client: Client, store: DocumentStore, until: int) -> int:
    """Index documents published on ``homeiq/docs/<collection>/<doc_id>`` until *until* are known."""
    async with client.messages() as messages:
        await client.subscribe(DOCS, qos=1)
        async for message in messages:
            _, _, collection, doc_id = str(message.topic).split("/")
            if message.payload:
                store.add(collection, doc_id, message.payload.decode())
            else:
                store.remove(collection, doc_id)
            if len(store) >= until:
                break
    await client.unsubscribe(DOCS)
    return len(store)


@retry(stop=stop_after_attempt(3), wait=wait_exponential(multiplier=0.01, max=0.05),
       retry=retry_if_exception_type(MqttError), reraise=True)
async def answer(client: Client, store: DocumentStore, request_id: str, question: str,
                 top_k: int | None = None) -> list:
    """Publish the best matching documents for *question* on ``homeiq/rag/answers/<request_id>``."""
    hits = [hit.__dict__ for hit in store.search(question, top_k or settings.TOP_K)]
    await client.publish(f"homeiq/rag/answers/{request_id}", json.dumps(hits), qos=1)
    return hits
