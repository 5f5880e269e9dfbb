"""aiomqtt/client-in-entry: a module-level Client() built at the top of the coroutine the module runs instead.

Its cases (run by test_rule_cases.py) and their no-op twins: every shape the rewrite does not own stays a
client-outside-loop Finding for a human.
"""

from __future__ import annotations

from recipe_harness import Case, detect, rewrite_files

from fleetshift.model import Action

R = "aiomqtt"
ENTRY, OUTSIDE = "aiomqtt/client-in-entry", "aiomqtt/client-outside-loop"

# the demo fleet's shape: configuration from the environment, a will, helpers awaited by main, a guarded run
SERVICE = '''"""Publish occupancy hints."""

from __future__ import annotations

import asyncio
import logging
import os

from asyncio_mqtt import Client, Will
from asyncio_mqtt.error import MqttError

log = logging.getLogger("svc")

MQTT_HOST = os.getenv("MQTT_HOST", "127.0.0.1")
MQTT_PORT = int(os.getenv("MQTT_PORT", "1883"))

# one connection for the whole process
client = Client(
    MQTT_HOST,
    MQTT_PORT,
    client_id="svc",
    will=Will("svc/status", payload=b"offline", qos=1, retain=True),
)


def hint(now: float) -> str:
    return f"{now:.0f}"


async def announce(state: str) -> None:
    await client.publish("svc/status", state, qos=1, retain=True)


async def loop(period: float) -> None:
    while True:
        await client.publish("svc/hint", hint(asyncio.get_running_loop().time()))
        await asyncio.sleep(period)


async def main(period: float = 60) -> None:
    """Run until cancelled."""
    logging.basicConfig(level=logging.INFO)
    try:
        await client.connect()
    except MqttError:
        log.error("broker unreachable")
        raise
    try:
        await announce("online")
        await loop(period)
    finally:
        await client.disconnect()


if __name__ == "__main__":
    asyncio.run(main())
'''

SERVICE_AFTER = '''"""Publish occupancy hints."""

from __future__ import annotations

import asyncio
import logging
import os

from aiomqtt import Client, Will
from aiomqtt import MqttError

log = logging.getLogger("svc")

MQTT_HOST = os.getenv("MQTT_HOST", "127.0.0.1")
MQTT_PORT = int(os.getenv("MQTT_PORT", "1883"))

# one connection for the whole process
client: Client  # built in main(): aiomqtt 2 needs a running event loop


def hint(now: float) -> str:
    return f"{now:.0f}"


async def announce(state: str) -> None:
    await client.publish("svc/status", state, qos=1, retain=True)


async def loop(period: float) -> None:
    while True:
        await client.publish("svc/hint", hint(asyncio.get_running_loop().time()))
        await asyncio.sleep(period)


async def main(period: float = 60) -> None:
    """Run until cancelled."""
    global client
    client = Client(
        MQTT_HOST,
        MQTT_PORT,
        identifier="svc",
        will=Will("svc/status", payload=b"offline", qos=1, retain=True),
    )
    logging.basicConfig(level=logging.INFO)
    try:
        await client.__aenter__()
    except MqttError:
        log.error("broker unreachable")
        raise
    try:
        await announce("online")
        await loop(period)
    finally:
        await client.__aexit__(None, None, None)


if __name__ == "__main__":
    asyncio.run(main())
'''

# aiomqtt 1.x/2.x code already on the new name: a publisher and a subscriber, the runner in a sync function
TWO = """import asyncio

import aiomqtt

pub = aiomqtt.Client("broker", identifier="pub")
sub = aiomqtt.Client("broker", identifier="sub")


async def relay():
    async with sub, pub:
        await sub.subscribe("in/#")
        async for message in sub.messages:
            await pub.publish("out/" + str(message.topic), message.payload)


def run():
    asyncio.run(relay())
"""

TWO_AFTER = """import asyncio

import aiomqtt

pub: aiomqtt.Client  # built in relay(): aiomqtt 2 needs a running event loop
sub: aiomqtt.Client  # built in relay(): aiomqtt 2 needs a running event loop


async def relay():
    global pub, sub
    pub = aiomqtt.Client("broker", identifier="pub")
    sub = aiomqtt.Client("broker", identifier="sub")
    async with sub, pub:
        await sub.subscribe("in/#")
        async for message in sub.messages:
            await pub.publish("out/" + str(message.topic), message.payload)


def run():
    asyncio.run(relay())
"""

# annotated, with its own comment, the entry a sync main() of a console script runs
ANNOTATED = """import asyncio
import aiomqtt
bus: aiomqtt.Client = aiomqtt.Client("broker")  # the one connection
async def serve() -> None:
    async with bus:
        await bus.publish("up", b"1")
def cli() -> None:
    asyncio.run(serve())
"""

ANNOTATED_AFTER = """import asyncio
import aiomqtt
# the one connection
bus: aiomqtt.Client  # built in serve(): aiomqtt 2 needs a running event loop
async def serve() -> None:
    global bus
    bus = aiomqtt.Client("broker")
    async with bus:
        await bus.publish("up", b"1")
def cli() -> None:
    asyncio.run(serve())
"""

NEW = "from aiomqtt import Client\n"
MAIN = "async def main():\n    async with client:\n        await client.publish('t', b'1')\n"
RUN = "if __name__ == '__main__':\n    asyncio.run(main())\n"


def human(name: str, before: str, **kw: object) -> Case:
    """A shape the rewrite does not own: left as it is, reported for a human by client-outside-loop."""
    return Case("client-in-entry", before, findings=("client-outside-loop",), name=name, **kw)  # type: ignore[arg-type]


CASES = [
    Case("client-in-entry", SERVICE, SERVICE_AFTER, name="demo-service-shape"),
    Case("client-in-entry", TWO, TWO_AFTER, name="two-clients-run-from-a-sync-function"),
    Case("client-in-entry", ANNOTATED, ANNOTATED_AFTER, name="annotated-with-a-comment"),
    human(
        "also-used-in-sync-code",
        "import asyncio\n"
        + NEW
        + "client = Client('h')\n"
        + MAIN
        + "def connected():\n    return client is not None\n"
        + RUN,
    ),
    human(
        "two-entry-coroutines",
        "import asyncio, sys\n"
        + NEW
        + "client = Client('h')\n"
        + MAIN
        + "async def probe():\n    async with client:\n        pass\n"
        + "if sys.argv[1:] == ['probe']:\n    asyncio.run(probe())\nelse:\n    asyncio.run(main())\n",
    ),
    human(
        "used-by-a-coroutine-main-does-not-run",
        "import asyncio\n"
        + NEW
        + "from fastapi import FastAPI\napp = FastAPI()\nclient = Client('h')\n"
        + MAIN
        + "@app.post('/say')\nasync def say(text: str):\n    await client.publish('say', text)\n"
        + RUN,
    ),
    human(
        "imported-by-another-module",
        "import asyncio\n" + NEW + "client = Client('h')\n" + MAIN + RUN,
        extra_files={
            "svc/app/tasks.py": "from app.mod import client\n\nasync def ping():\n    await client.publish('p')\n"
        },
    ),
    human(
        "argument-shadowed-in-main",
        "import asyncio\n"
        + NEW
        + "host = 'h'\nclient = Client(host)\n"
        + "async def main(host='other'):\n    async with client:\n        await client.publish(host)\n"
        + RUN,
    ),
    human("no-entry-coroutine", NEW + "client = Client('h')\n" + MAIN),
    human(
        "exported-by-name",
        "import asyncio\n" + NEW + "__all__ = ['client']\nclient = Client('h')\n" + MAIN + RUN,
    ),
    human(
        "class-attribute",
        "import asyncio\n"
        + NEW
        + "class Bus:\n    client = Client('h')\n"
        + "async def main():\n    async with Bus.client:\n        pass\n"
        + RUN,
    ),
    human(
        "main-called-before-the-client-exists",
        "import asyncio\n" + NEW + MAIN + "asyncio.run(main())\nclient = Client('h')\n",
    ),
]


def test_check_labels_auto_only_what_the_run_rewrites() -> None:
    """Detection says [auto] at the moved client and the run moves it; with an importer it says [human]."""
    path = "svc/app/mod.py"
    sites = [s for s in detect(R, SERVICE, path) if s.rule == ENTRY]
    assert [(s.line, s.action) for s in sites] == [(18, Action.AUTO)]
    assert not [s for s in detect(R, SERVICE, path) if s.rule == OUTSIDE]
    importer = {
        "svc/tests/test_mod.py": "from app.mod import client, hint\n\ndef test_hint():\n    assert hint(1.0) == '1'\n"
    }
    both = {path: SERVICE, **importer}
    new, findings = rewrite_files(R, both)
    assert "client = Client(\n" in new[path] and "global client" not in new[path]
    assert OUTSIDE in {f.rule for f in findings}
    seen = detect(R, SERVICE, path, importer)
    assert {s.rule: s.action for s in seen if s.rule in (OUTSIDE, ENTRY)} == {OUTSIDE: Action.HUMAN}
