"""Client(client_id=) is identifier=, client.id is client.identifier

client_id= becomes identifier=; .id on a known Client becomes .identifier.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from fleetshift.recipes.aiomqtt.edits import CallOp, edit_attribute, edit_call, key_of, planned, positions
from fleetshift.recipes.aiomqtt.facts import Facts, Site
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    import libcst as cst

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


class Fix:
    """Rename the keyword and the attribute."""

    def __init__(self, facts: Facts) -> None:
        self.edits = planned(check(facts))
        self.METADATA_DEPENDENCIES = positions()

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        ops = self.edits.get(key_of(self, original)) if self.edits else None
        return edit_call(updated, ops) if ops else updated

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.BaseExpression:
        ops = self.edits.get(key_of(self, original)) if self.edits else None
        return edit_attribute(updated, ops) if ops else updated
