"""unexpected disconnects surface from the failing operation, not from __aexit__

aiomqtt>=2.5 reports unexpected disconnects from the failing operation (MqttError with __cause__), not
from __aexit__; catch MqttError in reconnect loops and inspect e.__cause__ for the code.
"""

from __future__ import annotations

import ast

from fleetshift.recipes.aiomqtt import names as N
from fleetshift.recipes.aiomqtt.facts import Facts, Site, mqtt_files_only
from fleetshift.recipes.aiomqtt.tree import handler_types
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="2.5.0", order=19)


@mqtt_files_only
def check(facts: Facts) -> list[Site]:
    """MqttCodeError handlers around a client context or a message loop."""
    out = []
    for node in facts.of(ast.Try):
        if not isinstance(node, ast.Try):
            continue
        code_errors = [
            h
            for h in node.handlers
            if any(facts.imports.qualname(t) in N.CODE_ERROR_QUALNAMES for t in handler_types(h))
        ]
        if not code_errors:
            continue
        guarded = any(
            (
                isinstance(n, ast.AsyncWith)
                and any(
                    facts.is_client_call(i.context_expr) or facts.message_call(i.context_expr, n)
                    for i in n.items
                )
            )
            or isinstance(n, ast.AsyncFor)
            for stmt in node.body
            for n in ast.walk(stmt)
        )
        if guarded:
            out.append(facts.human("disconnect-errors", code_errors[0]))
    return out
