"""RAG over MQTT; the tests of this module share one event loop."""

import asyncio
import json

import pytest
from asyncio_mqtt import Client

from rag_service.service import answer, ingest
from rag_service.store import DocumentStore


@pytest.fixture(scope="module")
def event_loop():
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture
async def bus(mosquitto):
    async with Client(*mosquitto, client_id="rag-test-bus") as client:
        yield client


@pytest.fixture
def store():
    return DocumentStore()


async def test_documents_are_indexed_from_mqtt(bus, mosquitto, store):
    async with Client(*mosquitto, client_id="rag-ingest") as client:
        task = asyncio.create_task(ingest(client, store, until=2))
        await asyncio.sleep(0.1)
        await bus.publish("homeiq/docs/manuals/heatpump", b"Heat pump defrost cycle runs every 40 minutes", qos=1)
        await bus.publish("homeiq/docs/notes/plants", b"Water the plants on Sunday", qos=1)
        assert await asyncio.wait_for(task, 5) == 2
    assert store.search("defrost")[0].doc_id == "heatpump"


async def test_answers_are_published(bus, store, event_loop):
    store.add("notes", "plants", "Water the plants on Sunday")
    received = event_loop.create_future()

    async def wait_for_answer():
        async with bus.filtered_messages("homeiq/rag/answers/+") as messages:
            await bus.subscribe("homeiq/rag/answers/#", qos=1)
            async for message in messages:
                received.set_result((message.topic, json.loads(message.payload)))
                return

    waiter = asyncio.create_task(wait_for_answer())
    await asyncio.sleep(0.1)
    hits = await answer(bus, store, "req-1", "when do I water the plants?")
    topic, payload = await asyncio.wait_for(received, 5)
    await waiter
    assert topic == "homeiq/rag/answers/req-1"
    assert payload == hits and payload[0]["doc_id"] == "plants"


_loops = []


async def test_tests_share_the_module_loop_1():
    _loops.append(asyncio.get_event_loop())


async def test_tests_share_the_module_loop_2(bus):
    assert asyncio.get_event_loop() is _loops[0]
    await bus.publish("homeiq/docs/notes/empty", b"", qos=1)
