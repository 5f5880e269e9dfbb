"""Client.force_disconnect() was removed

Leave the `async with` block (or await client.__aexit__(None, None, None)), which forces the
disconnection if needed.
"""

from __future__ import annotations

import ast

from fleetshift.recipes.aiomqtt.facts import Facts, Site
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="1.0.0", order=13)


def check(facts: Facts) -> list[Site]:
    """Any `.force_disconnect()` call in a file that uses an MQTT client."""
    if not facts.mqtt_file:
        return []
    return [
        facts.human("force-disconnect", node)
        for node in ast.walk(facts.tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "force_disconnect"
        and not facts.is_client_call(node)
    ]
