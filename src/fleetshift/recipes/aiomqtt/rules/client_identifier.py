"""Client(client_id=) is identifier=, client.id is client.identifier

client_id= becomes identifier=; .id on a known Client becomes .identifier.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from fleetshift.recipes.aiomqtt.edits import (
    CallOp,
    PlannedFix,
)
from fleetshift.recipes.aiomqtt.facts import Facts, Site
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    pass

RULE = rule(__name__, __doc__, AUTO, since="2.0.0", order=1)


def check(facts: Facts) -> list[Site]:
    """client_id= on a Client(...) call; `.id` read on a known Client (a Finding when the receiver is unknown)."""
    if not facts.mqtt_file:
        return []
    out = [
        facts.site(
            "client-identifier",
            kw,
            "client_id= -> identifier=",
            edits=((facts.key(call), CallOp("rename", "client_id", "identifier")),),
            order=order,
        )
        for call, kw, order in facts.client_keywords()
        if kw.arg == "client_id"
    ]
    for node in facts.nodes:
        if not (isinstance(node, ast.Attribute) and node.attr == "id" and isinstance(node.ctx, ast.Load)):
            continue
        if facts.known(node.value, node):
            out.append(
                facts.site(
                    "client-identifier",
                    node,
                    "client.id -> client.identifier",
                    edits=((facts.key(node), "identifier"),),
                )
            )
        elif any(w in ast.unparse(node.value).lower() for w in ("client", "mqtt")):
            out.append(
                facts.human(
                    "client-identifier",
                    node,
                    f"{ast.unparse(node)}: if this is an MQTT Client, it is .identifier in aiomqtt 2 (the receiver could not be resolved).",
                )
            )
    return out


class Fix(PlannedFix):
    """Rename the keyword and the attribute."""

    check = staticmethod(check)
