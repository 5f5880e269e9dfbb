"""Behavioural proof of client-in-entry against a real mosquitto: a service that builds its Client (with a will)
at module level and uses it only from `async def main()`, run by `asyncio.run(main())` under `__main__`.

On asyncio-mqtt 0.16.2 it imports but its main() fails (the client is bound to the import-time loop). With only its imports and keywords renamed it cannot even be
imported on aiomqtt 2.4.0 and 2.5.1 (Client() needs a running event loop); fleetshift builds the client at
the top of main() instead, and the migrated module imports, and its main() connects and publishes there.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from mosquitto import Broker, mosquitto
from mqtt_service import CONFTEST, NEW_PINS, OLD_PINS, broker_env, run_tests, write
from recipe_harness import rewrite_files

pytestmark = pytest.mark.slow

PUBLISHER = '''"""Announce the service and publish a few readings."""

import asyncio
import os

from asyncio_mqtt import Client, Will

HOST = os.environ.get("MQTT_HOST", "127.0.0.1")
PORT = int(os.environ.get("MQTT_PORT", "1883"))

client = Client(
    HOST,
    PORT,
    client_id="svc-entry",
    will=Will("svc/status", payload=b"offline", qos=1),
)


async def announce(state):
    await client.publish("svc/status", state, qos=1)


async def main(rounds=2):
    await client.connect()
    try:
        await announce("online")
        for i in range(rounds):
            await client.publish("svc/reading", str(i), qos=1)
    finally:
        await client.disconnect()


if __name__ == "__main__":
    asyncio.run(main())
'''

PUBLISHER_TESTS = """import asyncio
import os
import subprocess
import sys
from pathlib import Path

from asyncio_mqtt import Client

HOST, PORT = os.environ["MQTT_HOST"], int(os.environ["MQTT_PORT"])


def _received(count, action):
    async def go():
        async with Client(HOST, PORT) as watcher:
            async with watcher.messages() as messages:
                await watcher.subscribe("svc/#", qos=1)
                await action()
                got = []
                async for m in messages:
                    got.append(m.payload)
                    if len(got) == count:
                        return got

    return asyncio.run(asyncio.wait_for(go(), 30))


def test_module_imports():
    import publisher

    assert publisher.PORT == PORT


def test_main_connects_and_publishes():
    import publisher

    assert _received(4, lambda: publisher.main(rounds=3)) == [b"online", b"0", b"1", b"2"]


def test_the_script_runs():
    async def script():
        path = Path(__file__).resolve().parents[1] / "publisher.py"
        await asyncio.to_thread(subprocess.run, [sys.executable, str(path)], check=True, timeout=30)

    assert _received(3, script) == [b"online", b"0", b"1"]
"""

SERVICE = {
    "publisher.py": PUBLISHER,
    "tests/test_publisher.py": PUBLISHER_TESTS,
    "tests/conftest.py": CONFTEST,
}
TEST_NAMES = {"test_module_imports", "test_main_connects_and_publishes", "test_the_script_runs"}


@pytest.fixture(scope="module")
def broker() -> Iterator[Broker]:
    with mosquitto() as running:
        yield running


def test_old_service_imports_but_cannot_run_on_asyncio_mqtt_0_16(tmp_path: Path, broker: Broker) -> None:
    """asyncio-mqtt 0.16 binds the client to the loop current at import (get_event_loop()), not the one
    asyncio.run() starts: the old module imports, but its main() fails there too (measured, not assumed)."""
    outcome = run_tests(OLD_PINS, write(tmp_path, SERVICE), broker_env(broker))
    assert outcome["test_module_imports"] == ""
    assert "different loop" in outcome["test_main_connects_and_publishes"], outcome
    assert outcome["test_the_script_runs"], outcome


@pytest.mark.parametrize("version", sorted(NEW_PINS))
def test_migrated_service_passes_on_aiomqtt_2(version: str, tmp_path: Path, broker: Broker) -> None:
    migrated, findings = rewrite_files("aiomqtt", SERVICE)
    code = migrated["publisher.py"]
    assert "client: Client  # built in main(): aiomqtt 2 needs a running event loop\n" in code
    assert "async def main(rounds=2):\n    global client\n    client = Client(\n" in code
    assert 'will=Will("svc/status", payload=b"offline", qos=1),' in code
    assert {f.rule for f in findings if f.severity == "human"} == set()
    outcome = run_tests(NEW_PINS[version], write(tmp_path, migrated), broker_env(broker))
    assert outcome == dict.fromkeys(TEST_NAMES, "")


@pytest.mark.parametrize("version", sorted(NEW_PINS))
def test_renamed_module_fails_at_import_on_aiomqtt_2(version: str, tmp_path: Path, broker: Broker) -> None:
    """Everything migrated but the client's place: importing the module raises on the missing event loop."""
    migrated, _ = rewrite_files("aiomqtt", SERVICE)
    code = migrated["publisher.py"]
    start = code.index("    global client\n")
    end = code.index("    )\n", start) + len("    )\n")
    call = code[start:end].replace("    global client\n", "").replace("\n    ", "\n")
    renamed = code[:start] + code[end:]
    renamed = renamed.replace(
        "client: Client  # built in main(): aiomqtt 2 needs a running event loop\n", call.lstrip()
    )
    assert "global" not in renamed and renamed.count("Client(") == 1
    outcome = run_tests(
        NEW_PINS[version], write(tmp_path, {**migrated, "publisher.py": renamed}), broker_env(broker)
    )
    assert "no running event loop" in outcome["test_module_imports"], outcome
    assert all(outcome[name] for name in TEST_NAMES), outcome
