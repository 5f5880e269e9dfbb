import asyncio

import pytest
from asyncio_mqtt import Client

from relay.bridge import forward, make_clients
from relay.settings import Settings, load


async def test_forward_rewrites_topic(target, message):
    topic = await forward(message("sensors/hall/hum", b"40"), target, "relay")
    assert topic == "relay/hall/hum"
    assert target.published == [("relay/hall/hum", b'{"value": 40}', 1)]


@pytest.mark.asyncio
async def test_forward_drops_garbage(target, message):
    assert await forward(message("sensors/x", b"nope"), target, "relay") is None
    assert target.published == []


def test_forward_with_the_loop_fixture(event_loop, target, message):
    # the old style: drive the coroutine on pytest-asyncio's loop
    topic = event_loop.run_until_complete(forward(message("sensors/a/b", b"{}"), target, "p"))
    assert topic == "p/a/b"


async def test_same_loop_as_event_loop_fixture(event_loop):
    assert asyncio.get_running_loop() is event_loop


def test_clients_are_built_without_connecting():
    source, target = make_clients(Settings(source_host="broker.invalid", target_port=1884))
    assert isinstance(source, Client)
    assert source.id == "relay-source"
    assert target.id == "relay-target"


def test_settings_from_env_file(tmp_path, monkeypatch):
    for name in ("RELAY_PREFIX", "RELAY_TOPICS", "RELAY_SOURCE_PORT"):
        monkeypatch.delenv(name, raising=False)
    env = tmp_path / ".env"
    env.write_text("RELAY_PREFIX=home\nRELAY_TOPICS=sensors/#, meters/+\nRELAY_SOURCE_PORT=8883\n")
    settings = load(env)
    assert settings.prefix == "home"
    assert settings.topics == ("sensors/#", "meters/+")
    assert settings.source_port == 8883
    for name in ("RELAY_PREFIX", "RELAY_TOPICS", "RELAY_SOURCE_PORT"):
        monkeypatch.delenv(name, raising=False)
