"""paho-mqtt itself moves to 2.x with aiomqtt 2

paho-mqtt 2 needs a callback API version: mqtt.Client(mqtt.CallbackAPIVersion.VERSION1, client_id=...)
keeps the old callbacks; VERSION2 changes on_connect/on_disconnect/on_subscribe/on_publish signatures.
"""

from __future__ import annotations

import ast
import re

from fleetshift.recipes.aiomqtt.facts import Facts, Site
from fleetshift.recipes.rule import HUMAN, Scope, rule

MQTT_CLIENT_IMPORT = re.compile(r"^[ \t]*(?:from|import)[ \t]+(?:asyncio_mqtt|aiomqtt)\b", re.MULTILINE)


def uses_an_mqtt_client(scope: Scope) -> bool:
    """Whether the service imports asyncio-mqtt or aiomqtt anywhere: only then does the migration move its paho."""
    return any(path.endswith(".py") and "mqtt" in text and MQTT_CLIENT_IMPORT.search(text)
               for path, text in scope.files.items())  # (the pattern matches only a text spelling mqtt)


# plain paho-mqtt code is left alone where nothing moves paho: a service without asyncio-mqtt/aiomqtt
RULE = rule(__name__, __doc__, HUMAN, since="2.1.0", order=21, condition=uses_an_mqtt_client)


def check(facts: Facts) -> list[Site]:
    """paho.mqtt.client.Client built directly.

    Detection sees one file: it reports the site only where the file itself imports asyncio-mqtt or aiomqtt.
    The rewrite reports it in any file of a service that does (the rule's condition), since the migration
    moves that service's paho pin to 2.x.
    """
    if not (facts.service_uses_mqtt or ("mqtt" in facts.text and MQTT_CLIENT_IMPORT.search(facts.text))):
        return []
    return [
        facts.human("paho-direct", node)
        for node in facts.of(ast.Call)
        if isinstance(node, ast.Call) and facts.imports.qualname(node.func) == "paho.mqtt.client.Client"
    ]
