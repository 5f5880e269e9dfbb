"""Behavioural proof of explicit lifecycles against a real mosquitto: a service class that connects in start()
(a retry loop with connect(timeout=...), catching MqttError and asyncio.TimeoutError) and disconnects in stop()
(force_disconnect() when disconnect() fails). Its own tests pass on asyncio-mqtt 0.16.2; fleetshift rewrites
the calls to __aenter__()/__aexit__(None, None, None) where they are, and the same tests pass on aiomqtt 2.4.0
and 2.5.1, while the code with only its imports renamed fails there on the missing connect().
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from mosquitto import Broker, mosquitto
from mqtt_service import CONFTEST, NEW_PINS, OLD_PINS, broker_env, late_broker_env, run_tests, write
from recipe_harness import rewrite_files

pytestmark = pytest.mark.slow

BRIDGE = '''"""Bridges readings to the broker; the connection lives from start() to stop()."""

import asyncio
import logging
import os

from asyncio_mqtt import Client, MqttError

log = logging.getLogger(__name__)
HOST = os.environ.get("MQTT_HOST", "127.0.0.1")
PORT = int(os.environ.get("MQTT_PORT", "1883"))


class Bridge:
    def __init__(self, host=HOST, port=PORT, name="bridge"):
        self.host, self.port, self.name = host, port, name
        self.client: Client | None = None
        self.attempts = 0

    async def start(self, attempts=5, timeout=2):
        self.client = Client(self.host, self.port, client_id=self.name)
        for attempt in range(attempts):
            self.attempts += 1
            try:
                # the broker may still be starting
                await self.client.connect(timeout=timeout)
                break
            except (MqttError, asyncio.TimeoutError) as exc:
                log.warning("connect %d to %s:%d failed: %s", attempt, self.host, self.port, exc)
                await asyncio.sleep(0.2)
        else:
            raise RuntimeError(f"broker {self.host}:{self.port} unreachable")
        log.info("connected as %s", self.client.id)

    async def forward(self, topic, payload):
        await self.client.publish(topic, payload, qos=1)

    async def stop(self):
        try:
            await self.client.disconnect(timeout=3)
        except MqttError:
            log.warning("could not disconnect cleanly; forcing")
            await self.client.force_disconnect()
'''

BRIDGE_TESTS = """import asyncio
import os
import signal
import subprocess
import time

from asyncio_mqtt import Client

import bridge


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


async def _received(topic, action):
    async with Client(bridge.HOST, bridge.PORT) as watcher:
        async with watcher.messages() as messages:
            await watcher.subscribe(topic, qos=1)
            await action()
            async for m in messages:
                return m.payload


def test_start_forward_stop():
    b = bridge.Bridge(name="bridge-1")

    async def main():
        async def action():
            await b.start()
            await b.forward("bridge/out", b"21.5")
            await b.stop()

        return await _received("bridge/out", action)

    assert run(main()) == b"21.5"
    assert b.attempts == 1


def test_stop_twice_and_restart():
    b = bridge.Bridge(name="bridge-2")

    async def main():
        await b.start()
        await b.stop()
        await b.stop()  # already disconnected: disconnect() fails, force_disconnect() ends it
        await b.start()

        async def action():
            await b.forward("bridge/again", b"x")

        got = await _received("bridge/again", action)
        await b.stop()
        return got

    assert run(main()) == b"x"


def test_start_retries_until_the_broker_is_up():
    port = int(os.environ["MQTT_LATE_PORT"])
    late = []

    async def main():
        b = bridge.Bridge(port=port, name="bridge-3")
        start = [os.environ["MOSQUITTO_BIN"], "-c", os.environ["MQTT_LATE_CONF"]]
        asyncio.get_running_loop().call_later(0.8, lambda: late.append(subprocess.Popen(start)))
        try:
            await b.start(attempts=40)
            await b.forward("late/x", b"1")
            await b.stop()
        finally:
            for proc in late:
                proc.terminate()
                proc.wait()
        return b.attempts

    assert run(main()) >= 2


def test_unreachable_broker_gives_up():
    async def main():
        try:
            await bridge.Bridge(port=1, name="bridge-4").start(attempts=3)
        except RuntimeError as exc:
            return str(exc)
        return "connected?"

    assert run(main()) == "broker 127.0.0.1:1 unreachable"


def test_connect_timeout_bounds_each_attempt():
    broker = int(os.environ["MQTT_BROKER_PID"])

    async def main():
        b = bridge.Bridge(name="bridge-5")
        os.kill(broker, signal.SIGSTOP)
        began = time.monotonic()
        try:
            await b.start(attempts=1, timeout=1)
        except RuntimeError:
            return time.monotonic() - began
        finally:
            os.kill(broker, signal.SIGCONT)
        return None

    elapsed = run(main())
    assert elapsed is not None and elapsed < 4, elapsed
"""

SERVICE = {"bridge.py": BRIDGE, "tests/test_bridge.py": BRIDGE_TESTS, "tests/conftest.py": CONFTEST}
TEST_NAMES = {
    "test_start_forward_stop",
    "test_stop_twice_and_restart",
    "test_start_retries_until_the_broker_is_up",
    "test_unreachable_broker_gives_up",
    "test_connect_timeout_bounds_each_attempt",
}


@pytest.fixture(scope="module")
def broker() -> Iterator[Broker]:
    with mosquitto() as running:
        yield running


def _env(broker: Broker, root: Path) -> dict[str, str]:
    return broker_env(broker, **late_broker_env(root))


def test_old_service_passes_on_asyncio_mqtt_0_16(tmp_path: Path, broker: Broker) -> None:
    assert run_tests(OLD_PINS, write(tmp_path, SERVICE), _env(broker, tmp_path)) == dict.fromkeys(
        TEST_NAMES, ""
    )


@pytest.mark.parametrize("version", sorted(NEW_PINS))
def test_migrated_service_passes_on_aiomqtt_2(version: str, tmp_path: Path, broker: Broker) -> None:
    migrated, findings = rewrite_files("aiomqtt", SERVICE)
    code = migrated["bridge.py"]
    assert (
        "await self.client.__aenter__()" in code
        and code.count("await self.client.__aexit__(None, None, None)") == 2
    )
    assert ".connect(" not in code and "force_disconnect" not in code
    assert {f.rule for f in findings if f.severity == "human"} == set()
    outcome = run_tests(NEW_PINS[version], write(tmp_path, migrated), _env(broker, tmp_path))
    assert outcome == dict.fromkeys(TEST_NAMES, "")


def test_import_rename_alone_fails_on_aiomqtt_2(tmp_path: Path, broker: Broker) -> None:
    """The service with everything but its lifecycle migrated (its tests fully migrated) fails on connect()."""
    migrated, _ = rewrite_files("aiomqtt", SERVICE)
    renamed = BRIDGE.replace("asyncio_mqtt", "aiomqtt").replace("client_id=", "identifier=")
    renamed = renamed.replace("self.client.id", "self.client.identifier")
    outcome = run_tests(
        NEW_PINS["2.5.1"], write(tmp_path, {**migrated, "bridge.py": renamed}), _env(broker, tmp_path)
    )
    assert "'Client' object has no attribute 'connect'" in outcome["test_start_forward_stop"]
    assert all(outcome[name] for name in TEST_NAMES - {"test_unreachable_broker_gives_up"})


def test_a_connect_without_its_timeout_fails_on_aiomqtt_2(tmp_path: Path, broker: Broker) -> None:
    """The timeout is part of the rewrite: __aenter__() alone waits the client's 10 s for a paused broker."""
    migrated, _ = rewrite_files("aiomqtt", SERVICE)
    lines = migrated["bridge.py"].splitlines(keepends=True)
    untimed = "".join(line for line in lines if line.strip() != "self.client.timeout = timeout")
    assert untimed != migrated["bridge.py"]
    outcome = run_tests(
        NEW_PINS["2.5.1"], write(tmp_path, {**migrated, "bridge.py": untimed}), _env(broker, tmp_path)
    )
    assert outcome["test_connect_timeout_bounds_each_attempt"] != ""
