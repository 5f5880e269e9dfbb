"""TLS: tls_insecure with tls_params fails on aiomqtt 2.5.0; paho tls_insecure_set hacks

Use Client(tls_insecure=True) instead of client._client.tls_insecure_set(); never run aiomqtt 2.5.0
(tls_params + tls_insecure raises ValueError); certificate errors surface as MqttError at connect since
2.5.
"""

from __future__ import annotations

import ast

from fleetshift.recipes.aiomqtt.facts import Facts, Site, mqtt_files_only
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="2.5.0", order=17)


@mqtt_files_only
def check(facts: Facts) -> list[Site]:
    """Client(tls_insecure=...) and client._client.tls_insecure_set(...) on a known Client."""
    out = [
        facts.human("tls-insecure", kw, order=order)
        for _c, kw, order in facts.client_keywords()
        if kw.arg == "tls_insecure"
    ]
    for node in facts.of(ast.Attribute):
        if is_private_client(facts, node):
            parent = facts.parents.get(id(node))
            if isinstance(parent, ast.Attribute) and parent.attr == "tls_insecure_set":
                out.append(
                    facts.human(
                        "tls-insecure",
                        node,
                        "client._client.tls_insecure_set(...): use Client(..., tls_insecure=True) (aiomqtt>=1.1); never run it on aiomqtt 2.5.0.",
                    )
                )
    return out


def is_private_client(facts: Facts, node: ast.AST) -> bool:
    """`<client>._client` on a known Client."""
    return isinstance(node, ast.Attribute) and node.attr == "_client" and facts.known(node.value, node)
