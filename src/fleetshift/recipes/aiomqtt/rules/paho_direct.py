"""paho-mqtt itself moves to 2.x with aiomqtt 2

paho-mqtt 2 needs a callback API version: mqtt.Client(mqtt.CallbackAPIVersion.VERSION1, client_id=...)
keeps the old callbacks; VERSION2 changes on_connect/on_disconnect/on_subscribe/on_publish signatures.
"""

from __future__ import annotations

import ast

from fleetshift.recipes.aiomqtt.facts import Facts, Site
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="2.1.0", order=21)


def check(facts: Facts) -> list[Site]:
    """paho.mqtt.client.Client built directly."""
    return [
        facts.human("paho-direct", node)
        for node in ast.walk(facts.tree)
        if isinstance(node, ast.Call) and facts.imports.qualname(node.func) == "paho.mqtt.client.Client"
    ]
