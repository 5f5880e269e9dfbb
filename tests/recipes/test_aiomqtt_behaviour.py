"""Behavioural proofs of the aiomqtt recipe against a real mosquitto on 127.0.0.1.

A small service written for asyncio-mqtt 0.16.2 (+ paho-mqtt 1.6.1) publishes, subscribes with wildcards,
filters by topic, reconnects, reads client.id, uses a Will and publishes with timeout=None. Its own tests
pass on the old pins; fleetshift migrates it; the same tests pass on aiomqtt 2.4.0 and 2.5.1 (which bring
paho-mqtt 2.x), while the code with only its imports renamed fails there.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from mosquitto import Broker, mosquitto
from mqtt_service import run_tests
from recipe_harness import rewrite_files, rules_of
from uvenv import run, uv_env

pytestmark = pytest.mark.slow

OLD_PINS = ["asyncio-mqtt==0.16.2", "paho-mqtt==1.6.1", "pytest>=8"]
NEW_PINS = {"2.4.0": ["aiomqtt==2.4.0", "pytest>=8"], "2.5.1": ["aiomqtt==2.5.1", "pytest>=8"]}

APP = '''"""A small MQTT service written for asyncio-mqtt 0.16."""

import asyncio
import json
import os
import sys

from asyncio_mqtt import Client, Will
from asyncio_mqtt.error import MqttError

HOST = os.environ.get("MQTT_HOST", "127.0.0.1")
PORT = int(os.environ.get("MQTT_PORT", "1883"))


async def publish_all(messages, client_id="pub-1"):
    async with Client(HOST, PORT, client_id=client_id, message_retry_set=20) as client:
        for topic, payload in messages:
            await client.publish(topic, payload, qos=1, timeout=None)
        return client.id


async def collect_wildcard(pattern, count, ready):
    """Collect `count` topics matching a wildcard subscription."""
    got = []
    async with Client(HOST, PORT) as client:
        async with client.messages() as messages:
            await client.subscribe(pattern)
            ready.set()
            async for message in messages:
                got.append((message.topic.value, message.payload.decode()))
                if len(got) == count:
                    break
    return got


async def temperatures(count, ready):
    """Per-site temperatures from a filtered stream."""
    sites = {}
    async with Client(HOST, PORT, client_id="temp-reader") as client:
        async with client.filtered_messages("sensors/+/temp") as temps:
            await client.subscribe("sensors/#")
            ready.set()
            async for m in temps:
                site = m.topic.split("/")[1]
                if m.topic == "sensors/kitchen/temp":
                    site = "KITCHEN"
                sites[site] = float(m.payload)
                if len(sites) == count:
                    break
    return sites


async def rest(count, ready):
    """Everything on status/#, as JSON lines keyed by topic."""
    lines = []
    async with Client(HOST, PORT) as client:
        async with client.unfiltered_messages(queue_maxsize=100) as stream:
            await client.subscribe("status/#")
            ready.set()
            async for msg in stream:
                if not msg.topic.startswith("status/"):
                    continue
                lines.append(json.dumps({"topic": msg.topic, "len": len(msg.payload)}))
                if len(lines) == count:
                    break
    return lines


async def reconnecting_publisher(topic):
    """Connect, publish, disconnect, then do it again on the same client."""
    client = Client(HOST, PORT, client_id="reconnector")
    await client.connect()
    ident = client.id
    await client.publish(topic, b"first", qos=1)
    await client.disconnect()
    await client.connect()
    try:
        await client.publish(topic, b"second", qos=1)
    finally:
        await client.disconnect()
    return ident


async def publish_patiently(client: Client, topic, payload):
    """Publish and wait for the broker's acknowledgement however long it takes."""
    await client.publish(topic, payload, qos=1, timeout=None)


async def hold_with_will(status_topic):
    """Connect with a Will and wait to be killed."""
    will = Will(status_topic, payload=b"offline", qos=1)
    async with Client(HOST, PORT, client_id="will-holder", will=will, keepalive=5) as client:
        await client.publish(status_topic, b"online", qos=1)
        print("ready", flush=True)
        await asyncio.sleep(60)


async def safe_publish(topic):
    try:
        async with Client(HOST, 1, client_id="nobody") as client:
            await client.publish(topic, b"x")
    except MqttError as exc:
        return str(exc)
    return "connected?"


if __name__ == "__main__":
    asyncio.run(hold_with_will(sys.argv[1]))
'''

APP_TESTS = """import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import mqtt_app
from asyncio_mqtt import Client


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 20))


async def _with_listener(listener, publisher):
    ready = asyncio.Event()
    task = asyncio.create_task(listener(ready))
    waiter = asyncio.create_task(ready.wait())
    await asyncio.wait({task, waiter}, timeout=5, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    if task.done():
        return task.result()
    await asyncio.sleep(0.1)
    await publisher()
    return await asyncio.wait_for(task, 10)


def test_publish_and_wildcard_subscribe():
    msgs = [("sensors/a/temp", b"1"), ("other/x", b"no"), ("sensors/b/hum", b"2")]

    async def main():
        return await _with_listener(lambda r: mqtt_app.collect_wildcard("sensors/#", 2, r),
                                    lambda: mqtt_app.publish_all(msgs))

    assert run(main()) == [("sensors/a/temp", "1"), ("sensors/b/hum", "2")]


def test_client_id_is_reported():
    assert run(mqtt_app.publish_all([], client_id="ident-7")) == "ident-7"


def test_filtered_messages_by_topic():
    msgs = [("sensors/kitchen/temp", b"21.5"), ("sensors/kitchen/hum", b"40"), ("sensors/attic/temp", b"30")]

    async def main():
        return await _with_listener(lambda r: mqtt_app.temperatures(2, r), lambda: mqtt_app.publish_all(msgs))

    assert run(main()) == {"KITCHEN": 21.5, "attic": 30.0}


def test_unfiltered_messages_as_json():
    msgs = [("status/a", b"ok"), ("status/b", b"fine")]

    async def main():
        return await _with_listener(lambda r: mqtt_app.rest(2, r), lambda: mqtt_app.publish_all(msgs))

    assert run(main()) == ['{"topic": "status/a", "len": 2}', '{"topic": "status/b", "len": 4}']


def test_reconnect_publishes_twice():
    async def main():
        got = []
        async with Client(mqtt_app.HOST, mqtt_app.PORT) as client:
            async with client.messages() as messages:
                await client.subscribe("re/topic", qos=1)
                ident = await mqtt_app.reconnecting_publisher("re/topic")
                async for m in messages:
                    got.append(m.payload)
                    if len(got) == 2:
                        break
        return ident, got

    assert run(main()) == ("reconnector", [b"first", b"second"])


def test_will_is_published_when_connection_dies():
    app = Path(mqtt_app.__file__)

    async def main():
        async with Client(mqtt_app.HOST, mqtt_app.PORT) as client:
            async with client.messages() as messages:
                await client.subscribe("svc/will-status", qos=1)
                proc = subprocess.Popen([sys.executable, str(app), "svc/will-status"], stdout=subprocess.PIPE)
                try:
                    line = await asyncio.get_running_loop().run_in_executor(None, proc.stdout.readline)
                    assert line.strip() == b"ready"
                    seen = []
                    async for m in messages:
                        seen.append(m.payload)
                        if seen == [b"online"]:
                            proc.kill()
                        if len(seen) == 2:
                            break
                finally:
                    proc.kill()
                    proc.wait()
                    proc.stdout.close()
        return seen

    assert run(main()) == [b"online", b"offline"]


def test_refused_connection_is_an_mqtt_error():
    assert "Connection refused" in run(mqtt_app.safe_publish("x"))


def test_timeout_none_waits_for_a_slow_broker():
    broker = int(os.environ["MQTT_BROKER_PID"])

    async def main():
        async with Client(mqtt_app.HOST, mqtt_app.PORT) as client:
            client.timeout = 0.5  # unused by asyncio-mqtt; the default per-call timeout of aiomqtt 2
            os.kill(broker, signal.SIGSTOP)
            asyncio.get_running_loop().call_later(1.5, os.kill, broker, signal.SIGCONT)
            try:
                await mqtt_app.publish_patiently(client, "slow/topic", b"x")
            finally:
                os.kill(broker, signal.SIGCONT)
        return "acknowledged"

    assert run(main()) == "acknowledged"
"""

CONFTEST = """import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
"""

SERVICE = {"mqtt_app.py": APP, "tests/test_mqtt_app.py": APP_TESTS, "tests/conftest.py": CONFTEST}
TEST_NAMES = {
    "test_publish_and_wildcard_subscribe",
    "test_client_id_is_reported",
    "test_filtered_messages_by_topic",
    "test_unfiltered_messages_as_json",
    "test_reconnect_publishes_twice",
    "test_will_is_published_when_connection_dies",
    "test_refused_connection_is_an_mqtt_error",
    "test_timeout_none_waits_for_a_slow_broker",
}

FANOUT = '''"""Two consumers of one client, as asyncio-mqtt 0.16 allowed: each gets its own copy of every message."""

import asyncio
import json
import os

from asyncio_mqtt import Client

HOST = os.environ.get("MQTT_HOST", "127.0.0.1")
PORT = int(os.environ.get("MQTT_PORT", "1883"))


async def consume(client, name, got):
    async with client.messages() as messages:
        async for message in messages:
            got.append([name, message.payload.decode()])


async def main():
    got = []
    async with Client(HOST, PORT) as client:
        await client.subscribe("trap/#", qos=1)
        tasks = [asyncio.create_task(consume(client, "A", got)), asyncio.create_task(consume(client, "B", got))]
        await asyncio.sleep(0.3)
        async with Client(HOST, PORT) as publisher:
            for i in range(4):
                await publisher.publish(f"trap/{i}", str(i), qos=1)
        await asyncio.sleep(0.5)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    print(json.dumps(sorted(got)))


if __name__ == "__main__":
    asyncio.run(main())
'''

# What a hand-made "rename only" conversion of the fan-out consumer would look like on aiomqtt 2.
FANOUT_NAIVE_CONSUMER = """async def consume(client, name, got):
    async for message in client.messages:
        got.append([name, message.payload.decode()])
"""


@pytest.fixture(scope="module")
def broker() -> Iterator[Broker]:
    with mosquitto() as running:
        yield running


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def _env(broker: Broker) -> dict[str, str]:
    return {
        "MQTT_HOST": broker.host,
        "MQTT_PORT": str(broker.port),
        "MQTT_BROKER_PID": str(broker.process.pid),
    }


def _run_service(pins: list[str], root: Path, broker: Broker) -> dict[str, str]:
    """Run the service's own tests in a real env; returns test name -> "" (passed) or the failure message."""
    return run_tests(pins, root, _env(broker), timeout=120)


def _migrate(files: dict[str, str]) -> tuple[dict[str, str], list]:
    return rewrite_files("aiomqtt", files)


def test_old_service_passes_on_asyncio_mqtt_0_16(tmp_path: Path, broker: Broker) -> None:
    outcome = _run_service(OLD_PINS, _write(tmp_path, SERVICE), broker)
    assert outcome == dict.fromkeys(TEST_NAMES, "")


@pytest.mark.parametrize("version", sorted(NEW_PINS))
def test_migrated_service_passes_on_aiomqtt_2(version: str, tmp_path: Path, broker: Broker) -> None:
    migrated, findings = _migrate(SERVICE)
    assert "asyncio_mqtt" not in "".join(migrated.values())
    assert {f.rule for f in findings if f.severity == "human"} == set()
    outcome = _run_service(NEW_PINS[version], _write(tmp_path, migrated), broker)
    assert outcome == dict.fromkeys(TEST_NAMES, "")


def test_import_rename_alone_fails_on_aiomqtt_2(tmp_path: Path, broker: Broker) -> None:
    renamed = {
        path: text.replace("asyncio_mqtt.error", "aiomqtt.exceptions").replace("asyncio_mqtt", "aiomqtt")
        for path, text in SERVICE.items()
    }
    outcome = _run_service(NEW_PINS["2.5.1"], _write(tmp_path, renamed), broker)
    assert (
        outcome["test_refused_connection_is_an_mqtt_error"] != ""
    )  # client_id= is rejected before connecting
    assert "unexpected keyword argument 'client_id'" in outcome["test_client_id_is_reported"]
    assert "'MessagesIterator' object is not callable" in outcome["test_publish_and_wildcard_subscribe"]
    assert "unfiltered_messages" in outcome["test_unfiltered_messages_as_json"]
    # timeout=None means "client default" on aiomqtt 2: the publish gives up while the broker is paused.
    assert "Operation timed out" in outcome["test_timeout_none_waits_for_a_slow_broker"]
    assert all(outcome[name] for name in TEST_NAMES)


def _fanout(pins: list[str], source: str, tmp_path: Path, broker: Broker) -> list[list[str]]:
    script = _write(tmp_path, {"fanout.py": source}) / "fanout.py"
    proc = run(uv_env(pins), str(script), cwd=tmp_path, env=_env(broker), timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_shared_queue_trap_is_flagged_not_rewritten(tmp_path: Path, broker: Broker) -> None:
    # asyncio-mqtt 0.16: two consumers each get all 4 messages -> 8 deliveries.
    old = _fanout(OLD_PINS, FANOUT, tmp_path / "old", broker)
    assert len(old) == 8 and {name for name, _ in old} == {"A", "B"}

    migrated, findings = _migrate({"fanout.py": FANOUT})
    assert rules_of(findings) == {"aiomqtt/shared-message-queue"}
    assert "async with client.messages() as messages:" in migrated["fanout.py"]  # left for a human
    assert "from aiomqtt import Client" in migrated["fanout.py"]

    # The rewrite a tool might be tempted to make splits one queue on aiomqtt 2: 4 deliveries, not 8.
    naive = migrated["fanout.py"].replace(
        migrated["fanout.py"][
            migrated["fanout.py"].index("async def consume") : migrated["fanout.py"].index("async def main")
        ],
        FANOUT_NAIVE_CONSUMER + "\n\n",
    )
    for version in sorted(NEW_PINS):
        new = _fanout(NEW_PINS[version], naive, tmp_path / version, broker)
        assert sorted(payload for _, payload in new) == ["0", "1", "2", "3"], (version, new)
