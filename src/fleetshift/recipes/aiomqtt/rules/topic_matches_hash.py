"""Topic.matches('a/b/#') also matches 'a/b' since aiomqtt 1.1

The match now follows the MQTT spec; code that relied on the old result sees extra matches.
"""

from __future__ import annotations

import ast

from fleetshift.recipes.aiomqtt.facts import Facts, Site
from fleetshift.recipes.rule import INFO, rule

RULE = rule(__name__, __doc__, INFO, since="1.1.0", order=23)


def check(facts: Facts) -> list[Site]:
    """`.matches('.../#')` in a file written for asyncio-mqtt."""
    if not (facts.mqtt_file and facts.old_file):
        return []
    return [
        facts.site("topic-matches-hash", node)
        for node in facts.of(ast.Call)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "matches"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
        and node.args[0].value.endswith("/#")
    ]
