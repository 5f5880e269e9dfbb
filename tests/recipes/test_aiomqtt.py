"""The aiomqtt recipe: its cases keyed by rule (run by test_rule_cases.py), Findings for human work, detection."""

from __future__ import annotations

import pytest
from recipe_harness import Case, assert_noop, detect, rewrite, rewrite_files, rules_of

from fleetshift.model import Action, Service, Severity
from fleetshift.recipes import get
from fleetshift.recipes.aiomqtt.rules.messages_router import ROUTER
from fleetshift.recipes.base import RewriteContext

R = "aiomqtt"
HEAD = "from asyncio_mqtt import Client\n"
NEW_HEAD = "from aiomqtt import Client\n"


LIFECYCLE_CLASS = """import asyncio
import logging

from asyncio_mqtt import Client, MqttError

log = logging.getLogger(__name__)


class Bridge:
    def __init__(self, host: str, grace: float = 3) -> None:
        self.host, self.grace = host, grace
        self.client: Client | None = None

    async def start(self, attempts: int = 5) -> None:
        self.client = Client(self.host, client_id="bridge")
        for attempt in range(attempts):
            try:
                # the broker may still be starting
                await self.client.connect(timeout=2)
                break
            except (MqttError, asyncio.TimeoutError) as exc:
                log.warning("connect %d failed: %s", attempt, exc)
                await asyncio.sleep(0.2)
        else:
            raise RuntimeError("broker unreachable")

    async def stop(self) -> None:
        try:
            await self.client.disconnect(timeout=self.grace)  # polite first
        except MqttError:
            log.warning("forcing")
            await self.client.force_disconnect()
"""


# a listener task started once per connection of a reconnect loop (`make` builds the client outside the loop)
RECONNECT_LOOP = """import asyncio

from asyncio_mqtt import Client, MqttError


async def listen(client, board):
    async with client.messages() as messages:
        await client.subscribe('game/+/moves', qos=1)
        async for message in messages:
            board.append(message.payload)


async def main(host, board):
{make}    while True:
        try:
            async with {enter}:
                tasks = [asyncio.create_task(listen(client, board)), asyncio.create_task(asyncio.sleep(3600))]
                done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
                for task in pending:
                    task.cancel()
                for task in done:
                    task.result()
        except MqttError:
            await asyncio.sleep(1)
"""


# the asyncio-mqtt README's "advanced example", with a handler reading str topics and a method-held stream
STACK_EXAMPLE = """import asyncio
from contextlib import AsyncExitStack

from asyncio_mqtt import Client, MqttError


async def log_messages(messages, template):
    async for message in messages:
        if message.topic == "floors/basement/humidity":
            continue
        print(template.format(message.topic, message.payload.decode()))


async def cancel_tasks(tasks):
    for task in tasks:
        if task.done():
            continue
        try:
            task.cancel()
            await task
        except asyncio.CancelledError:
            pass


async def advanced_example():
    async with AsyncExitStack() as stack:
        tasks = set()
        stack.push_async_callback(cancel_tasks, tasks)
        client = Client("test.mosquitto.org")
        await stack.enter_async_context(client)
        topic_filters = ("floors/+/humidity", "floors/rooftop/#")
        for topic_filter in topic_filters:
            manager = client.filtered_messages(topic_filter)
            messages = await stack.enter_async_context(manager)
            template = f'[topic_filter="{topic_filter}"] {{}}: {{}}'
            task = asyncio.create_task(log_messages(messages, template))
            tasks.add(task)
        messages = await stack.enter_async_context(client.unfiltered_messages())
        task = asyncio.create_task(log_messages(messages, "[unfiltered] {}: {}"))
        tasks.add(task)
        await client.subscribe("floors/#")
        await asyncio.gather(*tasks)


class Plugin:
    def __init__(self, client: Client) -> None:
        self.client = client

    async def init_tasks(self, stack: AsyncExitStack, topics) -> set:
        tasks = set()
        for topic in topics:
            messages = await stack.enter_async_context(self.client.filtered_messages(topic))
            tasks.add(asyncio.create_task(self._subscribe(topic, messages)))
            await self.client.subscribe(topic)
        return tasks

    @staticmethod
    async def _subscribe(topic, messages):
        async for message in messages:
            site = message.topic.split("/")[1]
            print(topic, site, message.payload.decode())
"""


# plain paho-mqtt 1.x code (a sync bridge with callbacks)
PAHO_BRIDGE = """import paho.mqtt.client as mqtt


def on_connect(client, userdata, flags, rc):
    client.subscribe("sensors/#")


def on_message(client, userdata, msg):
    userdata.append((msg.topic, msg.payload))


def start(host, received):
    client = mqtt.Client("bridge-1", userdata=received)
    client.on_connect = on_connect
    client.on_message = on_message
    client.connect(host, 1883, 60)
    client.loop_start()
    return client
"""


def flagged(rule: str, before: str) -> Case:
    """Human work: the site stays as it is (only the import moves to aiomqtt) and a Finding names the rule."""
    return Case(rule, before, before.replace("asyncio_mqtt", "aiomqtt"), findings=(rule,))


CASES = [
    # imports
    Case(
        "imports",
        "from asyncio_mqtt import Client, MqttError\n",
        "from aiomqtt import Client, MqttError\n",
        name="from-top",
    ),
    Case(
        "imports",
        "from asyncio_mqtt.error import MqttError, MqttConnectError\n",
        "from aiomqtt import MqttError\nfrom aiomqtt.exceptions import MqttConnectError\n",
        name="error-module",
    ),
    Case(
        "imports",
        "from aiomqtt.error import MqttCodeError\n",
        "from aiomqtt import MqttCodeError\n",
        name="error-module-1x",
    ),
    Case(
        "imports",
        "from asyncio_mqtt.client import Topic, Will\n",
        "from aiomqtt import Topic, Will\n",
        name="client-module",
    ),
    Case(
        "imports",
        "from asyncio_mqtt.types import PayloadType\n",
        "from aiomqtt.types import PayloadType\n",
        name="types-module",
    ),
    Case(
        "imports",
        "from asyncio_mqtt import error\nerror.MqttError\n",
        "from aiomqtt import exceptions as error\nerror.MqttError\n",
        name="error-as-module",
    ),
    Case(
        "imports",
        "import asyncio_mqtt\nc = asyncio_mqtt.Client\n",
        "import aiomqtt\nc = aiomqtt.Client\n",
        name="import-module",
    ),
    Case(
        "imports",
        "import asyncio_mqtt as mqtt\nE = (mqtt.error.MqttError, mqtt.error.MqttConnectError)\n",
        "import aiomqtt as mqtt\nE = (mqtt.MqttError, mqtt.exceptions.MqttConnectError)\n",
        name="import-alias-chain",
    ),
    Case(
        "imports",
        "import asyncio_mqtt as aiomqtt\nx = aiomqtt.Will\n",
        "import aiomqtt\nx = aiomqtt.Will\n",
        name="import-as-aiomqtt",
    ),
    Case(
        "imports",
        "import asyncio_mqtt.error\nE = asyncio_mqtt.error.MqttError\n",
        "import aiomqtt\nE = aiomqtt.MqttError\n",
        name="import-submodule",
    ),
    Case(
        "imports",
        'from unittest import mock\nmock.patch("asyncio_mqtt.Client")\nmock.patch("asyncio_mqtt.error.MqttError")\n',
        'from unittest import mock\nmock.patch("aiomqtt.Client")\nmock.patch("aiomqtt.exceptions.MqttError")\n',
        name="patch-targets",
    ),
    Case(
        "imports",
        HEAD + 'LOGGERS = ["asyncio_mqtt.client"]\n',
        NEW_HEAD + 'LOGGERS = ["asyncio_mqtt.client"]\n',
        findings=("imports",),
        name="module-name-in-a-string",
    ),
    Case(
        "imports",
        "from aiomqtt import Client, MqttError\nfrom aiomqtt.exceptions import MqttConnectError\nimport aiomqtt\n",
        name="new-imports",
    ),
    Case(
        "imports",
        "from aiomqtt.client import Client\nx = aiomqtt.client.Client\n",
        name="new-client-module",
    ),
    Case(
        "imports",
        "from asyncio import Queue\nimport mqtt_helpers\nmqtt_helpers.error.X\n",
        name="other-packages",
    ),
    Case("imports", 'NAME = "asyncio mqtt client"\n', name="plain-string"),
    # client-identifier
    Case(
        "client-identifier",
        HEAD + 'c = Client("h", client_id="svc-1")\n',
        'from aiomqtt import Client\nc = Client("h", identifier="svc-1")\n',
        name="client-id",
    ),
    Case(
        "client-identifier",
        HEAD + 'async def f():\n    async with Client("h") as c:\n        return c.id\n',
        'from aiomqtt import Client\nasync def f():\n    async with Client("h") as c:\n        return c.identifier\n',
        name="id-async-with",
    ),
    Case(
        "client-identifier",
        HEAD
        + "class S:\n    async def start(self):\n        self.mqtt = Client('h')\n    def name(self):\n        return self.mqtt.id\n",
        "from aiomqtt import Client\nclass S:\n    async def start(self):\n        self.mqtt = Client('h')\n    def name(self):\n        return self.mqtt.identifier\n",
        name="id-self",
    ),
    Case(
        "client-identifier",
        HEAD + "def name(client: Client) -> str:\n    return client.id\n",
        "from aiomqtt import Client\ndef name(client: Client) -> str:\n    return client.identifier\n",
        name="id-annotated",
    ),
    Case(
        "client-identifier",
        HEAD.replace("asyncio_mqtt", "aiomqtt") + "def f(user):\n    return user.id\n",
        name="lookalike-id",
    ),
    Case(
        "client-identifier",
        "from aiomqtt import Client\nasync def f():\n    async with Client('h') as c:\n        return c.identifier\n",
        name="new-identifier",
    ),
    # max-queued-messages
    Case(
        "max-queued-messages",
        HEAD + 'c = Client("h", max_queued_messages=100)\n',
        'from aiomqtt import Client\nc = Client("h", max_queued_outgoing_messages=100)\n',
        name="max-queued",
    ),
    Case(
        "max-queued-messages",
        "from aiomqtt import Client\nasync def f():\n    return Client('h', identifier='x', max_queued_outgoing_messages=1)\n",
        name="new-kwargs",
    ),
    # message-retry-set
    Case(
        "message-retry-set",
        HEAD + 'c = Client("h", message_retry_set=20)\n',
        'from aiomqtt import Client\nc = Client("h")\n',
        name="retry-set-last",
    ),
    Case(
        "message-retry-set",
        HEAD + 'c = Client(\n    "h",\n    port=1,\n    message_retry_set=20,\n)\n',
        'from aiomqtt import Client\nc = Client(\n    "h",\n    port=1,\n)\n',
        name="retry-set-multiline",
    ),
    Case(
        "message-retry-set",
        HEAD + 'c = Client("h", message_retry_set=20, keepalive=5)\n',
        'from aiomqtt import Client\nc = Client("h", keepalive=5)\n',
        name="retry-set-middle",
    ),
    Case(
        "message-retry-set",
        "from aiomqtt import Client\nfrom other import Api\na = Api(client_id='x', message_retry_set=1)\n",
        name="lookalike-client-id",
    ),
    # timeout-none
    Case(
        "timeout-none",
        HEAD + "async def f(c: Client):\n    await c.publish('t', b'x', timeout=None)\n",
        "from aiomqtt import Client\nimport math\n\nasync def f(c: Client):\n    await c.publish('t', b'x', timeout=math.inf)\n",
        name="timeout-none",
    ),
    Case(
        "timeout-none",
        "import math\n" + HEAD + "async def f(c: Client):\n    await c.subscribe('t', timeout=None)\n",
        "import math\nfrom aiomqtt import Client\nasync def f(c: Client):\n    await c.subscribe('t', timeout=math.inf)\n",
        name="timeout-none-math-imported",
    ),
    flagged("timeout-none", HEAD + "async def f(bus):\n    await bus.publish('t', timeout=None)\n"),
    Case(
        "timeout-none",
        "from aiomqtt import Client\nasync def f(c: Client):\n    await c.publish('t', timeout=None)\n",
        name="timeout-value",
    ),
    Case(
        "timeout-none",
        HEAD.replace("asyncio_mqtt", "aiomqtt")
        + "async def f(c: Client):\n    await c.publish('t', timeout=5)\n",
        name="timeout-number",
    ),
    # messages-iterator
    Case(
        "messages-iterator",
        HEAD
        + "async def f():\n    async with Client('h') as client:\n        async with client.messages() as messages:\n"
        "            await client.subscribe('a/#')\n            async for m in messages:\n                print(m.payload)\n",
        "from aiomqtt import Client\nasync def f():\n    async with Client('h') as client:\n"
        "        await client.subscribe('a/#')\n        async for m in client.messages:\n            print(m.payload)\n",
        name="messages",
    ),
    Case(
        "messages-iterator",
        HEAD
        + "async def f(client: Client):\n    # temperatures only\n    async with client.filtered_messages('s/+/temp') as temps:  # deprecated\n"
        "        async for m in temps:\n            site = m.topic.split('/')[1]\n            if m.topic == 's/k/temp':\n"
        "                continue\n            print(f'{m.topic}', str(m.topic), site)\n",
        "from aiomqtt import Client\nasync def f(client: Client):\n    # temperatures only\n    # deprecated\n"
        "    async for m in client.messages:\n        if m.topic.matches('s/+/temp'):\n"
        "            site = m.topic.value.split('/')[1]\n            if m.topic.value == 's/k/temp':\n"
        "                continue\n            print(f'{m.topic}', str(m.topic), site)\n",
        name="filtered",
    ),
    Case(
        "messages-iterator",
        "from aiomqtt import Client\nasync def f(client: Client):\n    async for m in client.messages:\n"
        "        if m.topic.matches('a/+'):\n            print(m.topic.value.split('/'))\n",
        name="new-iterator",
    ),
    Case(
        "messages-iterator",
        HEAD
        + "async def f(client: Client):\n    async with client.messages(queue_maxsize=0) as ms:\n        async for m in ms:\n            break\n",
        "from aiomqtt import Client\nasync def f(client: Client):\n    async for m in client.messages:\n        break\n",
        name="queue-maxsize-zero",
    ),
    Case(
        "messages-iterator",
        RECONNECT_LOOP.format(make="", enter="Client(host) as client"),
        RECONNECT_LOOP.format(make="", enter="Client(host) as client")
        .replace("asyncio_mqtt", "aiomqtt")
        .replace(
            "    async with client.messages() as messages:\n        await client.subscribe('game/+/moves', qos=1)\n"
            "        async for message in messages:\n            board.append(message.payload)\n",
            "    await client.subscribe('game/+/moves', qos=1)\n    async for message in client.messages:\n"
            "        board.append(message.payload)\n",
        ),
        name="listener-started-once-per-connection",
    ),
    # messages-router
    Case(
        "messages-router",
        STACK_EXAMPLE,
        STACK_EXAMPLE.replace("from asyncio_mqtt import Client, MqttError\n", "from aiomqtt import Client, MqttError\nimport contextlib\nimport weakref\n" + ROUTER)
        .replace("client.filtered_messages(topic_filter)", "filtered_messages(client, topic_filter)")
        .replace("self.client.filtered_messages(topic)", "filtered_messages(self.client, topic)")
        .replace("client.unfiltered_messages()", "unfiltered_messages(client)")
        .replace('if message.topic == "floors/basement/humidity"', 'if message.topic.value == "floors/basement/humidity"')
        .replace("site = message.topic.split", "site = message.topic.value.split"),
        name="readme-advanced-example",
    ),
    Case(
        "messages-router",
        "from contextlib import AsyncExitStack\nfrom aiomqtt import Client\nasync def f():\n    async with AsyncExitStack() as stack:\n"
        "        client = await stack.enter_async_context(Client('h'))\n        async for m in client.messages:\n            print(m.payload)\n",
        name="stack-of-an-aiomqtt-2-client",
    ),
    # incoming-queue-args
    Case(
        "incoming-queue-args",
        HEAD + "async def f():\n    async with Client('h', port=1) as client:\n"
        "        async with client.messages(queue_maxsize=50) as messages:\n            async for m in messages:\n                break\n",
        "from aiomqtt import Client\nasync def f():\n    async with Client('h', port=1, max_queued_incoming_messages=50) as client:\n"
        "        async for m in client.messages:\n            break\n",
        name="queue-maxsize",
    ),
    Case(
        "incoming-queue-args",
        "import asyncio\nfrom aiomqtt import Client\n"
        "async def f():\n    async with Client(\n        'h',\n        port=1,\n    ) as client:\n"
        "        async with client.messages(queue_class=asyncio.LifoQueue) as messages:\n            async for m in messages:\n                break\n",
        "import asyncio\nfrom aiomqtt import Client\n"
        "async def f():\n    async with Client(\n        'h',\n        port=1,\n        queue_type=asyncio.LifoQueue,\n    ) as client:\n"
        "        async for m in client.messages:\n            break\n",
        name="queue-class",
    ),
    Case(
        "incoming-queue-args",
        "from aiomqtt import Client\nasync def f():\n    async with Client('h', max_queued_incoming_messages=5) as c:\n"
        "        async for m in c.messages:\n            pass\n",
    ),
    # topic-value
    Case(
        "topic-value",
        "import json, re, logging\n"
        + HEAD
        + "log = logging.getLogger()\nasync def f(client: Client, seen: dict):\n"
        "    async with client.unfiltered_messages() as stream:\n        async for msg in stream:\n"
        "            seen[msg.topic] = msg.topic in {'a', 'b'}\n            json.dumps({'t': msg.topic})\n"
        "            re.match('a/.*', msg.topic)\n            log.info('got %s', msg.topic)\n",
        "import json, re, logging\nfrom aiomqtt import Client\nlog = logging.getLogger()\nasync def f(client: Client, seen: dict):\n"
        "    async for msg in client.messages:\n"
        "        seen[msg.topic.value] = msg.topic.value in {'a', 'b'}\n        json.dumps({'t': msg.topic.value})\n"
        "        re.match('a/.*', msg.topic.value)\n        log.info('got %s', msg.topic)\n",
        name="unfiltered-topic-uses",
    ),
    Case(
        "topic-value",
        "from aiomqtt import Client\nasync def f(client: Client):\n    async for m in client.messages:\n        print(m.topic == 'x')\n",
        name="messages-topic-already-topic",
    ),
    # connect-disconnect
    Case(
        "connect-disconnect",
        HEAD
        + "async def f():\n    c = Client('h')\n    await c.connect()\n    await c.publish('t', b'1')\n    await c.disconnect()\n",
        "from aiomqtt import Client\nasync def f():\n    c = Client('h')\n    await c.__aenter__()\n"
        "    await c.publish('t', b'1')\n    await c.__aexit__(None, None, None)\n",
        name="connect-pair",
    ),
    Case(
        "connect-disconnect",
        HEAD + "async def f():\n    c = Client('h')\n    # go\n    await c.connect(timeout=10)\n    try:\n"
        "        await c.publish('t', b'1')\n    finally:\n        await c.disconnect()\n",
        "from aiomqtt import Client\nasync def f():\n    c = Client('h')\n    # go\n    async with c:\n        await c.publish('t', b'1')\n",
        name="connect-try-finally",
    ),
    Case(
        "connect-disconnect",
        HEAD
        + "class Svc:\n    async def start(self):\n        self.client = Client('h')\n        await self.client.connect()\n"
        "    async def stop(self):\n        await self.client.disconnect()\n",
        "from aiomqtt import Client\nclass Svc:\n    async def start(self):\n        self.client = Client('h')\n"
        "        await self.client.__aenter__()\n    async def stop(self):\n        await self.client.__aexit__(None, None, None)\n",
        name="connect-class",
    ),
    Case(
        "connect-disconnect",
        "from aiomqtt import Client\nasync def f(db):\n    await db.connect()\n    await db.disconnect()\n",
        name="lookalike-connect",
    ),
    Case(
        "connect-disconnect",
        HEAD + "async def f():\n    c = Client('h')\n    await c.connect()\n",
        NEW_HEAD + "async def f():\n    c = Client('h')\n    await c.__aenter__()\n",
        name="lone-connect",
    ),
    Case(
        "connect-disconnect",
        "import asyncio\n" + HEAD + "async def f():\n    c = Client('h')\n    try:\n        await c.connect(timeout=3)\n"
        "    except asyncio.TimeoutError:\n        return None\n    return c\n",
        "import asyncio\n" + NEW_HEAD + "async def f():\n    c = Client('h')\n    try:\n        c.timeout = 3\n"
        "        await c.__aenter__()\n        c.timeout = 10\n    except asyncio.TimeoutError:\n        return None\n    return c\n",
        findings=("connect-disconnect",),
        name="timeout-handler-that-never-fires",
    ),
    Case(
        "connect-disconnect",
        LIFECYCLE_CLASS,
        LIFECYCLE_CLASS.replace("asyncio_mqtt", "aiomqtt")
        .replace('client_id="bridge"', 'identifier="bridge"')
        .replace(
            "                await self.client.connect(timeout=2)\n",
            "                self.client.timeout = 2\n                await self.client.__aenter__()\n"
            "                self.client.timeout = 10\n",
        )
        .replace(
            "            await self.client.disconnect(timeout=self.grace)  # polite first\n",
            "            self.client.timeout = self.grace\n            await self.client.__aexit__(None, None, None)  # polite first\n"
            "            self.client.timeout = 10\n",
        )
        .replace("await self.client.force_disconnect()", "await self.client.__aexit__(None, None, None)"),
        name="retry-loop-class",
    ),
    # shared-message-queue
    flagged(
        "shared-message-queue",
        HEAD
        + "import asyncio\nasync def consume(client, name):\n    async with client.messages() as ms:\n        async for m in ms:\n            print(name, m)\n"
        "async def main():\n    async with Client('h') as c:\n        await asyncio.gather(consume(c, 'A'), consume(c, 'B'))\n",
    ),
    flagged(
        "shared-message-queue",
        HEAD
        + "import asyncio\nasync def consume(client, name):\n    async with client.messages() as ms:\n        async for m in ms:\n            print(name, m)\n"
        "async def main(c):\n    async with asyncio.TaskGroup() as tg:\n        for name in 'AB':\n            tg.create_task(consume(c, name))\n",
    ),
    flagged(
        "shared-message-queue",
        HEAD
        + "async def a(client: Client):\n    async with client.filtered_messages('x/#') as ms:\n        async for m in ms:\n            pass\n"
        "async def b(client: Client):\n    async with client.unfiltered_messages() as ms:\n        async for m in ms:\n            pass\n",
    ),
    Case(
        "shared-message-queue",
        RECONNECT_LOOP.format(make="    client = Client(host)\n", enter="client"),
        RECONNECT_LOOP.format(make="    client = Client(host)\n", enter="client").replace("asyncio_mqtt", "aiomqtt"),
        findings=("shared-message-queue",),
        name="listener-started-per-pass-on-one-reused-client",
    ),
    Case(
        "shared-message-queue",
        "from aiomqtt import Client\nasync def consume(client):\n    async for m in client.messages:\n        print(m)\n"
        "async def main():\n    async with Client('h') as c:\n        await consume(c)\n",
    ),
    # messages-manual
    flagged(
        "messages-manual",
        HEAD
        + "async def f(client: Client):\n    async with client.messages() as ms:\n        await handle(ms)\n",
    ),
    flagged(
        "messages-manual",
        HEAD
        + "async def f(client: Client):\n    async with client.filtered_messages('a') as ms:\n        async for m in ms:\n            print(m.timestamp)\n",
    ),
    flagged(
        "messages-manual",
        HEAD
        + "async def f(client: Client):\n    async with client.messages(queue_maxsize=5) as ms:\n        async for m in ms:\n            pass\n",
    ),
    flagged(
        "messages-manual",
        HEAD
        + "async def f(client: Client, stack):\n    ms = await stack.enter_async_context(client.filtered_messages('a', queue_maxsize=5))\n",
    ),
    flagged("messages-manual", HEAD + "async def f(client: Client):\n    return client.filtered_messages('a')\n"),
    Case(
        "messages-manual",
        "from aiomqtt import Client\nasync def f(client: Client):\n    async for m in client.messages:\n        print(m.payload)\n",
    ),
    # message-type
    Case(
        "message-type",
        HEAD + "async def f(client: Client):\n    async with client.filtered_messages('a/#') as ms:\n"
        "        async for m in ms:\n            await handle(m)\n",
        NEW_HEAD + "async def f(client: Client):\n"
        "    async for m in client.messages:\n        if m.topic.matches('a/#'):\n            await handle(m)\n",
        findings=("message-type",),
        name="filtered-loop-passes-the-message-on",
    ),
    Case(
        "message-type",
        "from aiomqtt import Client\nasync def f(client: Client):\n    async for m in client.messages:\n        await handle(m)\n",
    ),
    # connect-manual
    flagged(
        "connect-manual",
        "import asyncio\nfrom asyncio_mqtt import Client, MqttError\nasync def run(c: Client, handle):\n    while True:\n"
        "        try:\n            await c.connect()\n            await handle(c)\n        except MqttError:\n"
        "            await asyncio.sleep(1)\n",
    ),
    flagged("connect-manual", "import asyncio\n" + HEAD + "async def f(c: Client):\n    await asyncio.wait_for(c.connect(), 5)\n"),
    flagged("connect-manual", HEAD + "async def f(c: Client):\n    ok = await c.connect()\n    return ok\n"),
    Case(
        "connect-manual",
        "from aiomqtt import Client\nasync def f():\n    c = Client('h', timeout=2)\n    await c.connect(timeout=5)\n"
        "    await c.disconnect()\n",
        "from aiomqtt import Client\nasync def f():\n    c = Client('h', timeout=2)\n    await c.connect(timeout=5)\n"
        "    await c.__aexit__(None, None, None)\n",
        findings=("connect-manual",),
        name="timeout-on-a-1x-client-with-its-own",
    ),
    Case(
        "connect-manual",
        "from aiomqtt import Client\nasync def f():\n    async with Client('h') as c:\n        await c.publish('t')\n",
        name="async-with-client",
    ),
    # force-disconnect
    Case(
        "force-disconnect",
        "from asyncio_mqtt import Client, MqttError\nasync def stop(c: Client):\n    try:\n        await c.disconnect()\n"
        "    except MqttError:\n        await c.force_disconnect()\n",
        "from aiomqtt import Client, MqttError\nasync def stop(c: Client):\n    try:\n        await c.__aexit__(None, None, None)\n"
        "    except MqttError:\n        await c.__aexit__(None, None, None)\n",
        name="in-except",
    ),
    flagged("force-disconnect", HEAD + "class S:\n    async def stop(self):\n        await self.mqtt.force_disconnect()\n"),
    Case("force-disconnect", "import websockets\nasync def f(ws):\n    await ws.force_disconnect()\n"),
    # client-outside-loop
    flagged("client-outside-loop", HEAD + "client = Client('h')\n"),
    flagged(
        "client-outside-loop",
        HEAD + "class S:\n    def __init__(self):\n        self.c = Client('h')\n",
    ),
    Case(
        "client-outside-loop",
        "from aiomqtt import Client\nasync def main():\n    c = Client('h')\n",
        name="client-in-async-def",
    ),
    Case(
        "client-outside-loop",
        "from aiomqtt import Client\ndef make():\n    return Client('h')\nasync def main():\n    async with make() as c:\n        pass\n",
        name="sync-factory-called-from-async",
    ),
    # rc-codes
    flagged(
        "rc-codes",
        "from asyncio_mqtt import MqttCodeError\nasync def f(go):\n    try:\n        await go()\n    except MqttCodeError as e:\n        if e.rc == 5:\n            raise\n",
    ),
    Case(
        "rc-codes",
        "from aiomqtt import MqttCodeError\ntry:\n    pass\nexcept MqttCodeError as e:\n    ok = e.rc.value == 135\n",
        name="rc-value",
    ),
    # subscribe-result
    flagged(
        "subscribe-result",
        HEAD + "async def f(c: Client):\n    r = await c.subscribe('a', qos=1)\n    assert r == (1,)\n",
    ),
    Case(
        "subscribe-result",
        "from aiomqtt import Client\nasync def f(c: Client):\n    r = await c.subscribe('a')\n    assert r[0] == 1\n",
        name="subscribe-element",
    ),
    # tls-insecure
    flagged("tls-insecure", HEAD + "c = lambda: Client('h', tls_insecure=True)\n"),
    flagged(
        "tls-insecure",
        HEAD + "async def f():\n    async with Client('h') as c:\n        c._client.tls_insecure_set(True)\n",
    ),
    Case("tls-insecure", "from aiomqtt import Client\nasync def f():\n    async with Client('h') as c:\n        pass\n"),
    # tls-deferred
    Case(
        "tls-deferred",
        HEAD + "async def f(tls):\n    async with Client('h', tls_params=tls) as c:\n        pass\n",
        NEW_HEAD + "async def f(tls):\n    async with Client('h', tls_params=tls) as c:\n        pass\n",
        findings=("tls-deferred",),
    ),
    Case("tls-deferred", "from aiomqtt import Client\nasync def f():\n    async with Client('h', port=8883) as c:\n        pass\n"),
    # disconnect-errors
    Case(
        "disconnect-errors",
        "from asyncio_mqtt import Client\nfrom asyncio_mqtt.error import MqttCodeError\nasync def f():\n    try:\n"
        "        async with Client('h') as c:\n            await c.publish('t')\n    except MqttCodeError:\n        pass\n",
        "from aiomqtt import Client\nfrom aiomqtt import MqttCodeError\nasync def f():\n    try:\n"
        "        async with Client('h') as c:\n            await c.publish('t')\n    except MqttCodeError:\n        pass\n",
        findings=("disconnect-errors",),
    ),
    Case(
        "disconnect-errors",
        "from aiomqtt import Client, MqttError\nasync def f():\n    try:\n        async with Client('h') as c:\n            pass\n    except MqttError:\n        pass\n",
        name="catch-mqtt-error",
    ),
    # private-paho
    flagged(
        "private-paho",
        HEAD
        + "async def f():\n    async with Client('h') as c:\n        c._client.message_callback_add('a', cb)\n",
    ),
    Case("private-paho", "from aiomqtt import Client\nasync def f(api):\n    api._client.message_callback_add('a', cb)\n"),
    # paho-direct
    Case(
        "paho-direct",
        PAHO_BRIDGE,
        findings=("paho-direct",),
        extra_files={"svc/app/bus.py": HEAD + "async def main():\n    async with Client('h') as c:\n        await c.publish('t')\n"},
        name="raw-paho-beside-asyncio-mqtt",
    ),
    flagged("paho-direct", HEAD + "import paho.mqtt.client as mqtt\nc = mqtt.Client('svc-1')\n"),
    Case("paho-direct", PAHO_BRIDGE, name="plain-paho-service"),
    Case("paho-direct", "import paho.mqtt.client as mqtt\nm = mqtt.MQTTMessage()\n"),
    # client-kwargs-dynamic
    flagged(
        "client-kwargs-dynamic",
        HEAD + "async def f(opts):\n    async with Client('h', **opts) as c:\n        pass\n",
    ),
    Case("client-kwargs-dynamic", "from aiomqtt import Client\nasync def f(opts):\n    async with Client('h', port=1) as c:\n        pass\n"),
    # mocked-messages
    flagged(
        "mocked-messages",
        "import asyncio\nfrom contextlib import AsyncExitStack\nfrom unittest.mock import AsyncMock\n\nfrom asyncio_mqtt import Client\n\n"
        "from unipi_control.plugins.features import FeaturesMqttPlugin\n\n\n"
        "async def init_tasks(plugin_cls, messages):\n    mock_mqtt_messages: AsyncMock = AsyncMock()\n"
        "    mock_mqtt_messages.__aenter__.return_value = messages\n    mock_mqtt_client: AsyncMock = AsyncMock(spec=Client)\n"
        "    mock_mqtt_client.filtered_messages.return_value = mock_mqtt_messages\n    async with AsyncExitStack() as stack:\n"
        "        await stack.enter_async_context(mock_mqtt_client)\n        return await plugin_cls(mock_mqtt_client).init_tasks(stack)\n\n\n"
        "def test_features():\n    asyncio.run(init_tasks(FeaturesMqttPlugin, []))\n",
    ),
    flagged(
        "mocked-messages",
        "async def test_mqtt(mocker):\n    mock = mocker.patch('senor_octopus.sources.mqtt.Client')\n"
        "    inner = mock.return_value.__aenter__.return_value\n    inner.messages.return_value.__aenter__ = mocker.AsyncMock()\n",
    ),
    Case(
        "mocked-messages",
        "from unittest.mock import MagicMock\nfrom aiomqtt import Client\n\n\nasync def messages(*items):\n    for item in items:\n        yield item\n\n\n"
        "def test_listen():\n    client = MagicMock(spec=Client)\n    client.messages = messages()\n"
        "    context = MagicMock()\n    context.get_filtered_messages.return_value = []\n",
        name="mocks-client-messages",
    ),
    # topic-matches-hash
    Case(
        "topic-matches-hash",
        HEAD + "def f(m):\n    return m.topic.matches('a/#')\n",
        NEW_HEAD + "def f(m):\n    return m.topic.matches('a/#')\n",
    ),
    Case("topic-matches-hash", "from aiomqtt import Client\ndef f(m):\n    return m.topic.matches('a/+')\n"),
]


ADVICE_ONLY = {"tls-deferred", "timeout-handler-that-never-fires"}  # cases whose findings are advice


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.findings and not {c.rule, c.name} & ADVICE_ONLY], ids=Case.id
)
def test_human_work_is_a_finding_with_a_link(case: Case) -> None:
    _got, findings = rewrite(R, case.before, path=case.path, extra_files=dict(case.extra_files))
    human = [f for f in findings if f.severity is Severity.HUMAN and f.rule == f"aiomqtt/{case.rule}"]
    assert human and all(f.link.startswith("https://github.com/empicano/aiomqtt/") and f.line > 0 for f in human)


def test_crlf_and_comments_are_kept() -> None:
    before = HEAD + "c = Client('h',  client_id='x')  # keep\r\n"
    got, _ = rewrite(R, before.replace("\n", "\r\n").replace("\r\r", "\r"))
    assert got == "from aiomqtt import Client\r\nc = Client('h',  identifier='x')  # keep\r\n"


def test_info_sites_are_detected_but_not_edited() -> None:
    source = (
        "from asyncio_mqtt import Client, TLSParameters\nasync def f(m):\n"
        "    async with Client('h', tls_params=TLSParameters(ca_certs='ca.pem')) as c:\n        return m.topic.matches('a/#')\n"
    )
    sites = detect(R, source, "svc/app/mqtt.py")
    info = {s.rule for s in sites if s.action is Action.INFO}
    assert info == {"aiomqtt/tls-deferred", "aiomqtt/topic-matches-hash"}
    got, findings = rewrite(R, source, path="svc/app/mqtt.py")
    assert got == source.replace("asyncio_mqtt", "aiomqtt")
    assert {f.rule for f in findings} == {"aiomqtt/tls-deferred"} and findings[0].severity is Severity.ADVICE


def test_consumer_called_from_two_files_is_not_rewritten() -> None:
    consumer = (
        HEAD
        + "async def consume(client: Client):\n    async with client.messages() as ms:\n        async for m in ms:\n            print(m)\n"
    )
    caller = "import asyncio\nfrom svc.consumer import consume\nasync def main(c):\n    await asyncio.gather(consume(c), consume(c))\n"
    new, findings = rewrite_files(R, {"svc/consumer.py": consumer, "svc/main.py": caller})
    assert "client.messages()" in new["svc/consumer.py"]
    assert rules_of(findings) == {"aiomqtt/shared-message-queue"}


# ---- detection -----------------------------------------------------------------------------------------


def test_detection_finds_old_api_sites() -> None:
    source = (
        "from asyncio_mqtt import Client\nasync def f():\n    async with Client('h', client_id='x', message_retry_set=2) as c:\n"
        "        print(c.id)\n        async with c.filtered_messages('a/+') as ms:\n            async for m in ms:\n"
        "                print(m.topic.split('/'))\n"
    )
    sites = detect(R, source, "svc/app/mqtt.py")
    assert rules_of(sites) == {
        "aiomqtt/imports",
        "aiomqtt/client-identifier",
        "aiomqtt/message-retry-set",
        "aiomqtt/messages-iterator",
        "aiomqtt/topic-value",
    }
    assert {s.line for s in sites if s.rule == "aiomqtt/client-identifier"} == {3, 4}
    assert all(s.action is Action.AUTO for s in sites)


def test_detection_ignores_files_without_mqtt() -> None:
    assert detect(R, "import asyncio\nasync def f(db):\n    await db.connect()\n    print(db.id)\n") == []


# ---- recipe data and pins --------------------------------------------------------------------------------


def test_recipe_data() -> None:
    recipe = get(R)
    assert (recipe.package, recipe.replaces, recipe.migrates_to) == ("aiomqtt", "asyncio-mqtt", ">=2.4.0,<3")
    assert recipe.drops == ("paho-mqtt",)
    assert recipe.is_old("asyncio-mqtt", "==0.16.2") and recipe.is_old("aiomqtt", "==1.2.1")
    assert recipe.is_old("aiomqtt", ">=2.4,<3") is False
    advised = {a.versions for a in recipe.advisories}
    assert advised == {"==2.5.0", ">=3.0.0a0"}
    assert "3.0.0a1" not in recipe.known_versions and "0.16.2" in recipe.known_versions
    for rule in recipe.rules:
        assert (
            rule.id.startswith("aiomqtt/")
            and rule.fix
            and rule.link.startswith("https://github.com/empicano/aiomqtt/")
        )


def _ctx(files: dict[str, str]) -> RewriteContext:
    return RewriteContext(Service("svc", "svc"), {}, files)


def test_pins_drop_the_old_paho_pin() -> None:
    changes = get(R).pin_changes(_ctx({"svc/app.py": HEAD}), {"asyncio-mqtt": "==0.16.2", "paho-mqtt": "<2"})
    assert [(c.package, c.new_package, c.new_spec, c.remove) for c in changes] == [
        ("asyncio-mqtt", "aiomqtt", ">=2.4.0,<3", False),
        ("paho-mqtt", "paho-mqtt", None, True),
    ]


def test_pins_keep_paho_when_the_service_imports_it() -> None:
    files = {"svc/app.py": HEAD, "svc/raw.py": "import paho.mqtt.client as mqtt\n"}
    changes = get(R).pin_changes(_ctx(files), {"asyncio-mqtt": "==0.16.2", "paho-mqtt": "==1.6.1"})
    assert ("paho-mqtt", ">=2.1,<3", False) in [(c.package, c.new_spec, c.remove) for c in changes]


def test_id_on_a_client_fixture_is_rewritten_across_files() -> None:
    conftest = (
        "import pytest\nfrom asyncio_mqtt import Client\n@pytest.fixture\nasync def bus():\n"
        "    async with Client('h', client_id='bus') as client:\n        yield client\n"
    )
    test = "async def test_bus(bus):\n    assert bus.id == 'bus'\n"
    new, findings = rewrite_files(R, {"svc/tests/conftest.py": conftest, "svc/tests/test_bus.py": test})
    assert new["svc/tests/test_bus.py"] == "async def test_bus(bus):\n    assert bus.identifier == 'bus'\n"
    assert findings == []


def test_unresolved_client_id_is_a_finding() -> None:
    source = HEAD + "def name(mqtt_client):\n    return mqtt_client.id\n"
    findings = assert_noop(R, source.replace("asyncio_mqtt", "aiomqtt"))
    assert rules_of(findings) == {"aiomqtt/client-identifier"} and findings[0].severity is Severity.HUMAN


def test_one_consumer_spawned_from_separate_tests_is_rewritten() -> None:
    source = (
        HEAD + "import asyncio\nasync def collect(client, n):\n    async with client.messages() as ms:\n"
        "        async for m in ms:\n            return m\n"
        "async def test_a(c):\n    t = asyncio.create_task(collect(c, 1))\n    await t\n"
        "async def test_b(c):\n    t = asyncio.create_task(collect(c, 2))\n    await t\n"
    )
    got, findings = rewrite(R, source)
    assert "async for m in client.messages:" in got and findings == []


def test_plain_paho_code_is_not_an_aiomqtt_site() -> None:
    """A service with paho-mqtt code and no asyncio-mqtt: no aiomqtt site, so no aiomqtt use nor 'unpinned' noise."""
    assert detect(R, PAHO_BRIDGE, "svc/app/bridge.py") == []
    both = HEAD + PAHO_BRIDGE
    assert rules_of(detect(R, both, "svc/app/bridge.py")) == {"aiomqtt/imports", "aiomqtt/paho-direct"}


def test_a_plain_paho_service_is_left_out_of_the_aiomqtt_migration(tmp_path) -> None:
    """In a fleet whose campaign moves aiomqtt, the service that only uses paho-mqtt gets no aiomqtt site,
    use or 'unpinned' finding; the one that also uses asyncio-mqtt gets its paho-direct site."""
    from fleet_factory import make_fleet

    from fleetshift.pipeline import analyse

    root = make_fleet(
        tmp_path,
        {
            "services/raw/requirements.txt": "paho-mqtt==1.6.1\n",
            "services/raw/raw/__init__.py": "",
            "services/raw/raw/bridge.py": PAHO_BRIDGE,
            "services/both/requirements.txt": "asyncio-mqtt==0.16.2\npaho-mqtt==1.6.1\n",
            "services/both/both/__init__.py": "",
            "services/both/both/bridge.py": HEAD + PAHO_BRIDGE,
        },
    )
    inventory = analyse(root).inventory
    raw, both = inventory.service("raw"), inventory.service("both")
    assert not [s for s in raw.sites if s.recipe == "aiomqtt"]
    assert not [u for u in raw.uses if u.recipe == "aiomqtt"]
    assert not [f for f in inventory.findings if f.rule.startswith("aiomqtt/")]
    assert "aiomqtt/paho-direct" in {s.rule for s in both.sites}


def test_the_router_goes_after_the_docstring_of_a_module_without_imports() -> None:
    import ast

    source = (
        '"""Doc."""\n\n\nasync def f(client, stack):\n'
        '    ms = await stack.enter_async_context(client.filtered_messages("a/#"))\n'
        '    async for m in ms:\n        print(m.topic.split("/"))\n'
    )
    got, findings = rewrite(R, source, path="svc/app/x.py")
    tree = ast.parse(got)
    assert ast.get_docstring(tree) == "Doc." and findings == []
    assert [type(n).__name__ for n in tree.body[1:6]] == ["Import", "Import", "Import", "ClassDef", "FunctionDef"]
    assert 'filtered_messages(client, "a/#")' in got and 'm.topic.value.split("/")' in got


def test_checks_read_the_nodes_by_class_as_filtering_the_walk_gives() -> None:
    """The checks read a module's nodes through its index by class (`Facts.of`), built with the walk: the same sites
    as with every node tested, which no check does any more (`Facts.nodes` unreadable); and `Facts.of` gives what
    filtering the walk by those classes gives, in its order."""
    import ast
    from dataclasses import replace

    from fleetshift.recipes.aiomqtt.facts import facts_of

    class Unread(tuple):  # type: ignore[type-arg]
        def __iter__(self):  # type: ignore[no-untyped-def]
            raise AssertionError("a check tested every node of the module")

    recipe = get(R)
    entry = "import asyncio\nfrom asyncio_mqtt import Client\n\nclient = Client('b')\n\nasync def main():\n    " \
        "async with client:\n        await client.publish('t', b'x')\n\nasyncio.run(main())\n"  # moved into main()
    texts = [c.before for c in CASES] + [LIFECYCLE_CLASS, RECONNECT_LOOP, STACK_EXAMPLE, PAHO_BRIDGE, entry]
    groups = [
        (ast.Call,), (ast.Attribute, ast.Name, ast.Constant), (ast.AsyncWith, ast.With, ast.Assign, ast.AnnAssign, ast.arg),
        (ast.Global, ast.Nonlocal, ast.arg, ast.Constant, ast.Name), (ast.FunctionDef, ast.AsyncFunctionDef),
    ]  # fmt: skip
    checked = 0
    for text in texts:
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        for uses_mqtt in (False, True):
            facts = facts_of(text, tree, {}, frozenset(), uses_mqtt)
            for classes in groups:
                assert list(facts.of(*classes)) == [n for n in facts.nodes if isinstance(n, classes)]
            found = recipe.sites(facts)
            assert recipe.sites(replace(facts, nodes=Unread(facts.nodes))) == found
            checked += bool(found)
    assert checked > len(CASES)


def test_a_fix_plans_its_edits_from_what_the_recipes_check_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """A rule's check runs once on each facts of a rewrite: its fix plans its edits from what the recipe's sites
    found in the same facts (`Facts.checked`), not by running the check again."""
    from fleetshift.recipes.aiomqtt.rules import client_identifier

    seen: list[object] = []  # the facts each call was given (kept, so no two are one object's id)
    check = client_identifier.check
    monkeypatch.setattr(client_identifier, "check", lambda facts: seen.append(facts) or check(facts))
    before = HEAD + "\n\nasync def main():\n    async with Client('h', client_id='x') as c:\n        print(c.id)\n"
    new, _ = rewrite(R, before)
    assert "identifier='x'" in new and "c.identifier" in new
    assert seen and len({id(f) for f in seen}) == len(seen)
