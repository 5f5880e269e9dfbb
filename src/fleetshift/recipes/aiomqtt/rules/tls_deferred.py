"""TLS certificates are loaded at connect time since aiomqtt 2.5

A bad ca_certs path raises MqttError at `async with`, not FileNotFoundError at Client().
"""

from __future__ import annotations

from fleetshift.model import Severity
from fleetshift.recipes.aiomqtt.facts import Facts, Site, mqtt_files_only
from fleetshift.recipes.rule import INFO, rule

RULE = rule(__name__, __doc__, INFO, since="2.5.0", order=18)


@mqtt_files_only
def check(facts: Facts) -> list[Site]:
    """tls_params= on a Client(...) call (a note, reported as advice)."""
    return [
        facts.site("tls-deferred", kw, finding=True, severity=Severity.ADVICE, order=order)
        for _call, kw, order in facts.client_keywords()
        if kw.arg == "tls_params"
    ]
