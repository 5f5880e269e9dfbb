"""Behavioural proof of a listener started once per connection, against a real mosquitto: a reconnect loop makes
a new Client each pass and starts `listen(client)` as a task, which reads `async with client.messages()`.

The task runs once per connection, never twice on one client, so it is rewritten to `async for ... in
client.messages`. Its tests (moves arrive; the broker kicks the client by a session takeover, the loop
reconnects and the new listener goes on) pass on asyncio-mqtt 0.16.2 and, migrated, on aiomqtt 2.4.0 and
2.5.1; the listener left as it was (what the recipe did while `listen()` counted as running twice at once)
fails there with "'MessagesIterator' object is not callable".
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from mosquitto import Broker, mosquitto
from mqtt_service import CONFTEST, NEW_PINS, OLD_PINS, broker_env, run_tests, write
from recipe_harness import rewrite_files

pytestmark = pytest.mark.slow

GAME = '''"""Follows the moves of every game; reconnects when the broker drops it."""

import asyncio
import logging
import os

from asyncio_mqtt import Client, MqttError

log = logging.getLogger(__name__)
HOST = os.environ.get("MQTT_HOST", "127.0.0.1")
PORT = int(os.environ.get("MQTT_PORT", "1883"))


async def listen(client, board):
    async with client.messages() as messages:
        await client.subscribe("game/+/moves", qos=1)
        async for message in messages:
            board.append((message.topic.value, message.payload.decode()))


async def heartbeat(client):
    while True:
        await client.publish("game/heartbeat", b"1")
        await asyncio.sleep(0.5)


async def follow(board, connections, host=HOST, port=PORT):
    while True:
        try:
            async with Client(host, port, client_id="game-follower") as client:
                connections.append(client.id)
                tasks = [asyncio.create_task(listen(client, board)), asyncio.create_task(heartbeat(client))]
                done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                for task in pending:
                    task.cancel()
                for task in done:
                    task.result()
        except MqttError as exc:
            log.warning("connection lost: %s; reconnecting", exc)
        await asyncio.sleep(0.3)
'''

GAME_TESTS = """import asyncio

from asyncio_mqtt import Client, MqttError

import game


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


async def _until(done, follower, publisher, topic, payload):
    for _ in range(100):
        if follower.done():
            follower.result()  # the follower died: show why
        if done():
            return
        await publisher.publish(topic, payload, qos=1)
        await asyncio.sleep(0.1)
    raise AssertionError("timed out")


def test_moves_arrive_across_a_reconnect():
    async def main():
        board, connections = [], []
        follower = asyncio.create_task(game.follow(board, connections))
        try:
            async with Client(game.HOST, game.PORT) as publisher:
                await _until(lambda: board, follower, publisher, "game/7/moves", b"e4")
                try:  # a second client with the same id takes the session over: the broker drops the first
                    async with Client(game.HOST, game.PORT, client_id="game-follower"):
                        await asyncio.sleep(0.2)
                except MqttError:
                    pass
                await _until(
                    lambda: len(connections) >= 2 and ("game/7/moves", "d5") in board,
                    follower, publisher, "game/7/moves", b"d5",
                )
        finally:
            follower.cancel()
            await asyncio.gather(follower, return_exceptions=True)
        return connections, board

    connections, board = run(main())
    assert connections[:2] == ["game-follower", "game-follower"]
    assert ("game/7/moves", "e4") in board and ("game/7/moves", "d5") in board
    assert all(topic == "game/7/moves" for topic, _ in board)
"""

SERVICE = {"game.py": GAME, "tests/test_game.py": GAME_TESTS, "tests/conftest.py": CONFTEST}


@pytest.fixture(scope="module")
def broker() -> Iterator[Broker]:
    with mosquitto() as running:
        yield running


def test_old_service_passes_on_asyncio_mqtt_0_16(tmp_path: Path, broker: Broker) -> None:
    outcome = run_tests(OLD_PINS, write(tmp_path, SERVICE), broker_env(broker))
    assert outcome == {"test_moves_arrive_across_a_reconnect": ""}


@pytest.mark.parametrize("version", sorted(NEW_PINS))
def test_migrated_service_passes_on_aiomqtt_2(version: str, tmp_path: Path, broker: Broker) -> None:
    migrated, findings = rewrite_files("aiomqtt", SERVICE)
    assert "async for message in client.messages:" in migrated["game.py"]
    assert "client.messages()" not in "".join(migrated.values())
    assert {f.rule for f in findings if f.severity == "human"} == set()
    outcome = run_tests(NEW_PINS[version], write(tmp_path, migrated), broker_env(broker))
    assert outcome == {"test_moves_arrive_across_a_reconnect": ""}


def test_the_listener_left_as_it_was_fails_on_aiomqtt_2(tmp_path: Path, broker: Broker) -> None:
    migrated, _ = rewrite_files("aiomqtt", SERVICE)
    old_listen = GAME[GAME.index("async def listen") : GAME.index("async def heartbeat")]
    new_listen = migrated["game.py"][
        migrated["game.py"].index("async def listen") : migrated["game.py"].index("async def heartbeat")
    ]
    blocked = {**migrated, "game.py": migrated["game.py"].replace(new_listen, old_listen)}
    outcome = run_tests(NEW_PINS["2.5.1"], write(tmp_path, blocked), broker_env(broker))
    assert "'MessagesIterator' object is not callable" in outcome["test_moves_arrive_across_a_reconnect"]
