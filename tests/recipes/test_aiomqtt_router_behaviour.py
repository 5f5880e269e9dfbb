"""Behavioural proof of per-topic streams entered on an AsyncExitStack (the asyncio-mqtt README's "advanced
example" shape), against a real mosquitto: one task per topic filter plus one for unfiltered messages.

fleetshift routes every stream through one reader of client.messages that hands each filter's task the
messages matching it (a message matching two filters goes to both; the unfiltered task gets those matching
none). The service's tests (wildcards, several topics, order within a stream, a slow consumer not holding
up the others, cancellation) pass on asyncio-mqtt 0.16.2 and, migrated, on aiomqtt 2.4.0 and 2.5.1; with
only its imports renamed it fails there on the missing filtered_messages().
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from mosquitto import Broker, mosquitto
from mqtt_service import CONFTEST, NEW_PINS, OLD_PINS, broker_env, run_tests, write
from recipe_harness import rewrite_files

pytestmark = pytest.mark.slow

FLOORS = '''"""Readings of every floor, one consumer task per topic filter."""

import asyncio
import os
from contextlib import AsyncExitStack

from asyncio_mqtt import Client

HOST = os.environ.get("MQTT_HOST", "127.0.0.1")
PORT = int(os.environ.get("MQTT_PORT", "1883"))
TOPIC_FILTERS = ("floors/+/humidity", "floors/rooftop/#")


async def collect(messages, into, delay=0.0):
    async for message in messages:
        if message.topic == "floors/cellar/ignored":
            continue
        floor = message.topic.split("/")[1]
        into.append((floor, message.payload.decode()))
        await asyncio.sleep(delay)


async def cancel_tasks(tasks):
    for task in tasks:
        if task.done():
            continue
        try:
            task.cancel()
            await task
        except asyncio.CancelledError:
            pass


async def route(received, ready, slow=()):
    async with AsyncExitStack() as stack:
        tasks = set()
        stack.push_async_callback(cancel_tasks, tasks)
        client = Client(HOST, PORT)
        await stack.enter_async_context(client)
        for topic_filter in TOPIC_FILTERS:
            manager = client.filtered_messages(topic_filter)
            messages = await stack.enter_async_context(manager)
            delay = 0.05 if topic_filter in slow else 0.0
            task = asyncio.create_task(collect(messages, received.setdefault(topic_filter, []), delay))
            tasks.add(task)
        messages = await stack.enter_async_context(client.unfiltered_messages())
        task = asyncio.create_task(collect(messages, received.setdefault("unfiltered", [])))
        tasks.add(task)
        await client.subscribe("floors/#", qos=1)
        ready.set()
        await asyncio.gather(*tasks)
'''

FLOORS_TESTS = """import asyncio

from asyncio_mqtt import Client

import floors


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


async def _started(service, ready):
    waiter = asyncio.create_task(ready.wait())
    await asyncio.wait({service, waiter}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    if service.done():
        service.result()  # it failed to start: show why
    assert ready.is_set()


async def _route_and_publish(readings, expected, slow=()):
    received, ready = {}, asyncio.Event()
    before = asyncio.all_tasks() | {asyncio.current_task()}
    service = asyncio.create_task(floors.route(received, ready, slow))
    await _started(service, ready)
    async with Client(floors.HOST, floors.PORT) as publisher:
        for topic, payload in readings:
            await publisher.publish(topic, payload, qos=1)
    for _ in range(200):
        if sum(len(v) for v in received.values()) >= expected:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)  # nothing more arrives
    service.cancel()
    done, _ = await asyncio.wait({service}, timeout=5)
    assert done, "the service did not stop when cancelled"
    assert service.cancelled()
    leftover = [t for t in asyncio.all_tasks() - before if not t.done()]
    assert leftover == [], leftover
    return received


def test_wildcards_and_several_topics():
    readings = [
        ("floors/kitchen/humidity", b"40"),
        ("floors/rooftop/temperature", b"12"),
        ("floors/rooftop/humidity", b"70"),  # matches both filters
        ("floors/hall/temperature", b"20"),  # matches none
        ("floors/cellar/ignored", b"0"),
        ("floors/attic/humidity", b"35"),
    ]
    received = run(_route_and_publish(readings, 6))
    assert received == {
        "floors/+/humidity": [("kitchen", "40"), ("rooftop", "70"), ("attic", "35")],
        "floors/rooftop/#": [("rooftop", "12"), ("rooftop", "70")],
        "unfiltered": [("hall", "20")],
    }


def test_order_within_a_stream_and_a_slow_consumer():
    readings = [(f"floors/f{i}/humidity", str(i).encode()) for i in range(30)]
    readings += [("floors/rooftop/wind", str(i).encode()) for i in range(10)]
    received = run(_route_and_publish(readings, 40, slow=("floors/+/humidity",)))
    assert received["floors/+/humidity"] == [(f"f{i}", str(i)) for i in range(30)]
    assert received["floors/rooftop/#"] == [("rooftop", str(i)) for i in range(10)]
    assert received["unfiltered"] == []


def test_cancelled_before_any_message():
    async def main():
        received, ready = {}, asyncio.Event()
        service = asyncio.create_task(floors.route(received, ready))
        await _started(service, ready)
        service.cancel()
        done, _ = await asyncio.wait({service}, timeout=5)
        return bool(done), received

    stopped, received = run(main())
    assert stopped and received == {"floors/+/humidity": [], "floors/rooftop/#": [], "unfiltered": []}
"""

# a unit test that mocks the removed stream methods: it passes on asyncio-mqtt 0.16.2 and cannot on aiomqtt 2
MOCKED_TESTS = """import asyncio
from dataclasses import dataclass
from unittest.mock import AsyncMock, patch

from asyncio_mqtt import Client

import floors


@dataclass
class FakeMessage:
    topic: str
    payload: bytes


async def fake_stream(messages):
    for message in messages:
        yield message


def stream_of(*messages):
    stream = AsyncMock()
    stream.__aenter__.return_value = fake_stream(messages)
    return stream


def test_route_with_a_mocked_client():
    async def main():
        client = AsyncMock(spec=Client)
        client.filtered_messages.side_effect = lambda topic_filter: stream_of(
            *([FakeMessage("floors/kitchen/humidity", b"40")] if topic_filter == "floors/+/humidity" else [])
        )
        client.unfiltered_messages.return_value = stream_of(FakeMessage("floors/hall/temperature", b"20"))
        received = {}
        with patch("floors.Client", return_value=client):
            await floors.route(received, asyncio.Event())
        return received

    assert asyncio.run(main()) == {
        "floors/+/humidity": [("kitchen", "40")],
        "floors/rooftop/#": [],
        "unfiltered": [("hall", "20")],
    }
"""

SERVICE = {"floors.py": FLOORS, "tests/test_floors.py": FLOORS_TESTS, "tests/conftest.py": CONFTEST}
TEST_NAMES = {
    "test_wildcards_and_several_topics",
    "test_order_within_a_stream_and_a_slow_consumer",
    "test_cancelled_before_any_message",
}


@pytest.fixture(scope="module")
def broker() -> Iterator[Broker]:
    with mosquitto() as running:
        yield running


def test_old_service_passes_on_asyncio_mqtt_0_16(tmp_path: Path, broker: Broker) -> None:
    assert run_tests(OLD_PINS, write(tmp_path, SERVICE), broker_env(broker)) == dict.fromkeys(TEST_NAMES, "")


@pytest.mark.parametrize("version", sorted(NEW_PINS))
def test_migrated_service_passes_on_aiomqtt_2(version: str, tmp_path: Path, broker: Broker) -> None:
    migrated, findings = rewrite_files("aiomqtt", SERVICE)
    code = migrated["floors.py"]
    assert "manager = filtered_messages(client, topic_filter)" in code and "class MessageRouter" in code
    assert "unfiltered_messages(client)" in code and 'message.topic.value.split("/")' in code
    assert {f.rule for f in findings if f.severity == "human"} == set()
    outcome = run_tests(NEW_PINS[version], write(tmp_path, migrated), broker_env(broker))
    assert outcome == dict.fromkeys(TEST_NAMES, "")


def test_import_rename_alone_fails_on_aiomqtt_2(tmp_path: Path, broker: Broker) -> None:
    migrated, _ = rewrite_files("aiomqtt", SERVICE)
    renamed = {**migrated, "floors.py": FLOORS.replace("asyncio_mqtt", "aiomqtt")}
    outcome = run_tests(NEW_PINS["2.5.1"], write(tmp_path, renamed), broker_env(broker))
    assert all("'Client' object has no attribute 'filtered_messages'" in outcome[name] for name in TEST_NAMES)


def test_a_test_that_mocks_the_removed_streams_is_named(tmp_path: Path, broker: Broker) -> None:
    """The mock-based test passes on 0.16.2, fails on aiomqtt 2 after the migration, and a Finding names it."""
    service = {**SERVICE, "tests/test_mocked.py": MOCKED_TESTS}
    old = run_tests(OLD_PINS, write(tmp_path / "old", service), broker_env(broker))
    assert old["test_route_with_a_mocked_client"] == ""
    migrated, findings = rewrite_files("aiomqtt", service)
    named = [f for f in findings if f.rule == "aiomqtt/mocked-messages"]
    assert {f.file for f in named} == {"tests/test_mocked.py"}
    assert all("test_route_with_a_mocked_client()" in f.message for f in named)
    new = run_tests(NEW_PINS["2.5.1"], write(tmp_path / "new", migrated), broker_env(broker))
    assert "has no attribute 'filtered_messages'" in new["test_route_with_a_mocked_client"]
    assert all(new[name] == "" for name in TEST_NAMES)
