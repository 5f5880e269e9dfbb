import asyncio

import asyncio_mqtt as aiomqtt
import pytest

from doorbell.listener import Ring, client_from_env, listen, notify_all, parse


def test_parse():
    assert parse("home/doorbell/front/pressed", b'{"battery": 41}') == Ring("front", 41)
    assert parse("home/doorbell/back/pressed", b"") == Ring("back", 100)


async def test_notify_all_counts_successes():
    sent = []

    async def send(phone, text):
        if phone == "broken":
            raise ConnectionError("push service down")
        sent.append((phone, text))

    ok = await notify_all(Ring("front", 90), ["a", "broken", "b"], send)
    assert ok == 2
    assert sent == [("a", "Someone at the front door"), ("b", "Someone at the front door")]


async def test_loop_is_in_debug_mode():
    assert asyncio.get_running_loop().get_debug()


def test_client_from_env(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MQTT_HOST", "broker.invalid")
    monkeypatch.setenv("MQTT_PORT", "8883")
    client = client_from_env()
    assert isinstance(client, aiomqtt.Client)
    assert client.id == "doorbell-listener"
    assert client._hostname == "broker.invalid" and client._port == 8883


async def test_listen_retries_connection_errors():
    attempts = []

    class Unreachable:
        async def __aenter__(self):
            attempts.append(1)
            raise aiomqtt.MqttError("[Errno 111] Connection refused")

        async def __aexit__(self, *exc):
            return False

    listen.retry.sleep = lambda seconds: asyncio.sleep(0)
    with pytest.raises(aiomqtt.MqttError):
        await listen(lambda ring: None, client_factory=Unreachable)
    assert len(attempts) == 5
    assert listen.retry.statistics["attempt_number"] == 5
