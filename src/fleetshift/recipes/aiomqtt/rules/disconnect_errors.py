"""unexpected disconnects surface from the failing operation, not from __aexit__

aiomqtt>=2.5 reports unexpected disconnects from the failing operation (MqttError with __cause__), not
from __aexit__; catch MqttError in reconnect loops and inspect e.__cause__ for the code.
"""

from __future__ import annotations

import ast

from fleetshift.recipes.aiomqtt import names as N
from fleetshift.recipes.aiomqtt.clients import ClientTracker
from fleetshift.recipes.aiomqtt.tree import handler_types
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="2.5.0", order=19)


def check(a: ClientTracker) -> None:
    """MqttCodeError handlers around a client context or a message loop."""
    if not a.mqtt_file:
        return
    for node in ast.walk(a.tree):
        if not isinstance(node, ast.Try):
            continue
        code_errors = [
            h
            for h in node.handlers
            if any(a.imports.qualname(t) in N.CODE_ERROR_QUALNAMES for t in handler_types(h))
        ]
        if not code_errors:
            continue
        guarded = any(
            (
                isinstance(n, ast.AsyncWith)
                and any(
                    a.is_client_call(i.context_expr) or a.message_call(i.context_expr, n)
                    for i in n.items
                )
            )
            or isinstance(n, ast.AsyncFor)
            for stmt in node.body
            for n in ast.walk(stmt)
        )
        if guarded:
            a.human("disconnect-errors", code_errors[0])
