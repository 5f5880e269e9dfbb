"""connect()/disconnect() used in a shape with no mechanical translation

Use `async with client:` (or await __aenter__()/__aexit__(None, None, None) as statements); a client is
reusable but not reentrant (MqttReentrantError), so a reconnect loop enters it once per pass inside the
loop; set client.timeout (or Client(timeout=)) instead of connect(timeout=).
"""

from __future__ import annotations

from fleetshift.recipes.aiomqtt.facts import Facts, Site
from fleetshift.recipes.aiomqtt.lifecycle import sites_of
from fleetshift.recipes.aiomqtt.rules import GUIDE
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="2.0.0", link=GUIDE, order=12)


def check(facts: Facts) -> list[Site]:
    """connect()/disconnect() calls on a known Client that cannot be rewritten where they are, with the reason."""
    return sites_of(facts, "connect-manual")
