"""direct use of aiomqtt's private paho client (client._client)

private paho client access (client._client.<x>) — aiomqtt>=2.2 uses paho CallbackAPIVersion.VERSION2;
check callback signatures / use public Client args.
"""

from __future__ import annotations

import ast

from fleetshift.recipes.aiomqtt.facts import Facts, Site, mqtt_files_only
from fleetshift.recipes.aiomqtt.rules.tls_insecure import is_private_client
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="2.2.0", order=20)


@mqtt_files_only
def check(facts: Facts) -> list[Site]:
    """`<client>._client` on a known Client (except the TLS hack, which tls-insecure reports)."""
    out = []
    for node in facts.of(ast.Attribute):
        if is_private_client(facts, node):
            parent = facts.parents.get(id(node))
            if not (isinstance(parent, ast.Attribute) and parent.attr == "tls_insecure_set"):
                out.append(facts.human("private-paho", node))
    return out
