"""The breaking changes from asyncio-mqtt 0.16 / aiomqtt 1.x to aiomqtt 2.x, one Rule each."""

from __future__ import annotations

from fleetshift.model import Action
from fleetshift.recipes.base import Rule

CHANGELOG = "https://github.com/empicano/aiomqtt/blob/v2.5.1/CHANGELOG.md"
GUIDE = "https://github.com/empicano/aiomqtt/blob/v2.5.1/docs/migration-guide-v2.md"
AUTO, HUMAN, INFO = Action.AUTO, Action.HUMAN, Action.INFO


def _rule(slug: str, summary: str, action: Action, fix: str, since: str, link: str = CHANGELOG) -> Rule:
    return Rule(f"aiomqtt/{slug}", summary, action, fix, link, since)


ALL_RULES = (
    _rule(
        "imports",
        "asyncio_mqtt was renamed aiomqtt; aiomqtt.error became aiomqtt.exceptions, Topic moved out of aiomqtt.client",
        AUTO,
        "Imports, module attribute chains and mock.patch targets are rewritten to aiomqtt (MqttConnectError from aiomqtt.exceptions).",
        "1.0.0",
    ),
    _rule(
        "client-identifier",
        "Client(client_id=) is identifier=, client.id is client.identifier",
        AUTO,
        "client_id= becomes identifier=; .id on a known Client becomes .identifier.",
        "2.0.0",
    ),
    _rule(
        "max-queued-messages",
        "Client(max_queued_messages=) is max_queued_outgoing_messages=",
        AUTO,
        "The keyword is renamed.",
        "2.0.0",
    ),
    _rule(
        "message-retry-set",
        "Client(message_retry_set=) was removed (it was a no-op in paho 1.6)",
        AUTO,
        "The keyword is deleted.",
        "2.0.0",
    ),
    _rule(
        "timeout-none",
        "per-call timeout=None meant 'forever' in asyncio-mqtt and means 'client default, 10 s' since aiomqtt 1.0",
        AUTO,
        "timeout=None becomes timeout=math.inf (import math added).",
        "1.0.0",
    ),
    _rule(
        "messages-iterator",
        "messages()/filtered_messages()/unfiltered_messages() contexts were replaced by the client.messages iterator",
        AUTO,
        "A lone context with one async-for becomes `async for m in client.messages`; a filter becomes `if m.topic.matches(f):`.",
        "2.0.0",
        GUIDE,
    ),
    _rule(
        "incoming-queue-args",
        "messages(queue_maxsize=)/queue_class= moved to Client(max_queued_incoming_messages=)/queue_type=",
        AUTO,
        "The argument moves to the Client constructor.",
        "2.0.0",
        GUIDE,
    ),
    _rule(
        "topic-value",
        "message.topic is an aiomqtt Topic, not the str filtered/unfiltered_messages() gave",
        AUTO,
        "String uses of message.topic (compare, str methods, keys, arguments) read message.topic.value.",
        "2.0.0",
        GUIDE,
    ),
    _rule(
        "connect-disconnect",
        "Client.connect()/disconnect() were removed",
        AUTO,
        "A connect()/disconnect() pair becomes __aenter__()/__aexit__(None, None, None), or `async with client:` around try/finally.",
        "2.0.0",
        GUIDE,
    ),
    _rule(
        "shared-message-queue",
        "several concurrent message consumers now split one client-wide queue instead of each getting a copy",
        HUMAN,
        "asyncio-mqtt per-generator queues were removed in aiomqtt 2.0: a single client.messages queue is shared (messages are split between concurrent consumers; unmatched messages accumulate). Restructure into one consumer with message.topic.matches(...) or a distributor.",
        "2.0.0",
        GUIDE,
    ),
    _rule(
        "messages-manual",
        "a message-stream shape that has no mechanical translation",
        HUMAN,
        "Consume `async for message in client.messages` once per client (set Client(max_queued_incoming_messages=, queue_type=) if needed) and dispatch with message.topic.matches(...).",
        "2.0.0",
        GUIDE,
    ),
    _rule(
        "message-type",
        "a message from filtered/unfiltered_messages() (paho MQTTMessage with a str topic) is passed on",
        HUMAN,
        "The message is now an aiomqtt Message: .topic is a Topic (use .topic.value), and .timestamp/.dup/.state/.info are gone; check the code that receives it.",
        "2.0.0",
        GUIDE,
    ),
    _rule(
        "connect-manual",
        "connect()/disconnect() use that is not a simple pair",
        HUMAN,
        "Use `async with client:` (or __aenter__()/__aexit__(None, None, None)); a client is reusable but not reentrant (MqttReentrantError); pass Client(timeout=) instead of connect(timeout=).",
        "2.0.0",
        GUIDE,
    ),
    _rule(
        "force-disconnect",
        "Client.force_disconnect() was removed",
        HUMAN,
        "Leave the `async with` block (or await client.__aexit__(None, None, None)), which forces the disconnection if needed.",
        "1.0.0",
    ),
    _rule(
        "client-outside-loop",
        "Client() must be constructed inside a running event loop",
        HUMAN,
        "aiomqtt>=2.3.1 Client() requires a running event loop; construct it inside async startup (e.g. lifespan) instead of at import time.",
        "2.3.1",
    ),
    _rule(
        "rc-codes",
        "MqttCodeError.rc is a paho ReasonCode with MQTT5 numbering",
        HUMAN,
        "MqttCodeError.rc is a paho ReasonCode (MQTT5 numbering: 135 Not authorized, 134 Bad user name or password, 128 Unspecified) since aiomqtt 2.2; compare rc.value / rc.getName() or use rc.is_failure.",
        "2.2.0",
    ),
    _rule(
        "subscribe-result",
        "subscribe() returns a list of ReasonCode, not a tuple of ints",
        HUMAN,
        "Compare elements (r[0] == 1 still holds) instead of the whole result against a tuple.",
        "2.2.0",
    ),
    _rule(
        "tls-insecure",
        "TLS: tls_insecure with tls_params fails on aiomqtt 2.5.0; paho tls_insecure_set hacks",
        HUMAN,
        "Use Client(tls_insecure=True) instead of client._client.tls_insecure_set(); never run aiomqtt 2.5.0 (tls_params + tls_insecure raises ValueError); certificate errors surface as MqttError at connect since 2.5.",
        "2.5.0",
    ),
    _rule(
        "tls-deferred",
        "TLS certificates are loaded at connect time since aiomqtt 2.5",
        INFO,
        "A bad ca_certs path raises MqttError at `async with`, not FileNotFoundError at Client().",
        "2.5.0",
    ),
    _rule(
        "disconnect-errors",
        "unexpected disconnects surface from the failing operation, not from __aexit__",
        HUMAN,
        "aiomqtt>=2.5 reports unexpected disconnects from the failing operation (MqttError with __cause__), not from __aexit__; catch MqttError in reconnect loops and inspect e.__cause__ for the code.",
        "2.5.0",
    ),
    _rule(
        "private-paho",
        "direct use of aiomqtt's private paho client (client._client)",
        HUMAN,
        "private paho client access (client._client.<x>) — aiomqtt>=2.2 uses paho CallbackAPIVersion.VERSION2; check callback signatures / use public Client args.",
        "2.2.0",
    ),
    _rule(
        "paho-direct",
        "paho-mqtt itself moves to 2.x with aiomqtt 2",
        HUMAN,
        "paho-mqtt 2 needs a callback API version: mqtt.Client(mqtt.CallbackAPIVersion.VERSION1, client_id=...) keeps the old callbacks; VERSION2 changes on_connect/on_disconnect/on_subscribe/on_publish signatures.",
        "2.1.0",
    ),
    _rule(
        "client-kwargs-dynamic",
        "Client(**options) may carry renamed or removed keywords",
        HUMAN,
        "Check the options for client_id (now identifier), message_retry_set (removed) and max_queued_messages (now max_queued_outgoing_messages).",
        "2.0.0",
    ),
    _rule(
        "topic-matches-hash",
        "Topic.matches('a/b/#') also matches 'a/b' since aiomqtt 1.1",
        INFO,
        "The match now follows the MQTT spec; code that relied on the old result sees extra matches.",
        "1.1.0",
    ),
)

RULES = {r.id.split("/", 1)[1]: r for r in ALL_RULES}
