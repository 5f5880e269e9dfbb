"""MqttCodeError.rc is a paho ReasonCode with MQTT5 numbering

MqttCodeError.rc is a paho ReasonCode (MQTT5 numbering: 135 Not authorized, 134 Bad user name or
password, 128 Unspecified) since aiomqtt 2.2; compare rc.value / rc.getName() or use rc.is_failure.
"""

from __future__ import annotations

import ast

from fleetshift.recipes.aiomqtt import names as N
from fleetshift.recipes.aiomqtt.facts import Facts, Site
from fleetshift.recipes.aiomqtt.rules.subscribe_result import compares_subscribe_result
from fleetshift.recipes.aiomqtt.tree import handler_types
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="2.2.0", order=15)


def check(facts: Facts) -> list[Site]:
    """A comparison with `<caught MqttCodeError>.rc`, a paho CONNACK_* or MQTT_ERR_* constant."""
    return [
        facts.human("rc-codes", node)
        for node in facts.comparisons()
        if not compares_subscribe_result(facts, node)  # one Finding a comparison: subscribe-result's
        and any(_is_code(facts, o, node) for o in [node.left, *node.comparators])
    ]


def _is_code(facts: Facts, o: ast.AST, at: ast.AST) -> bool:
    if not isinstance(o, ast.Attribute):
        return False
    if o.attr.startswith(("CONNACK_", "MQTT_ERR_")):
        return True
    return o.attr == "rc" and _caught_mqtt_error(facts, o.value, at)


def _caught_mqtt_error(facts: Facts, node: ast.AST, at: ast.AST) -> bool:
    if not isinstance(node, ast.Name):
        return False
    cur: ast.AST | None = at
    while cur is not None:
        if isinstance(cur, ast.ExceptHandler) and cur.name == node.id and cur.type is not None:
            return any(facts.imports.qualname(t) in N.ERROR_QUALNAMES for t in handler_types(cur))
        cur = facts.parents.get(id(cur))
    return False
