"""Client(client_id=) is identifier=, client.id is client.identifier

client_id= becomes identifier=; .id on a known Client becomes .identifier.
"""

from __future__ import annotations

import ast

from fleetshift.recipes.aiomqtt.edits import CallOp, PlannedFix, keyword_sites
from fleetshift.recipes.aiomqtt.facts import Facts, Site, mqtt_files_only
from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, since="2.0.0", order=1)

RENAME = CallOp("rename", "client_id", "identifier")


@mqtt_files_only
def check(facts: Facts) -> list[Site]:
    """client_id= on a Client(...) call; `.id` read on a known Client (a Finding when the receiver is unknown)."""
    out = keyword_sites(facts, "client-identifier", RENAME, "client_id= -> identifier=")
    for node in facts.of(ast.Attribute):
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
