"""connect()/disconnect() use that is not a simple pair

Use `async with client:` (or __aenter__()/__aexit__(None, None, None)); a client is reusable but not
reentrant (MqttReentrantError); pass Client(timeout=) instead of connect(timeout=).
"""

from __future__ import annotations

from fleetshift.recipes.aiomqtt.facts import Facts, Site
from fleetshift.recipes.aiomqtt.lifecycle import sites_of
from fleetshift.recipes.aiomqtt.rules import GUIDE
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="2.0.0", link=GUIDE, order=12)


def check(facts: Facts) -> list[Site]:
    """connect()/disconnect() calls on a known Client in a shape that is not a plain pair, with the reason."""
    return sites_of(facts, "connect-manual")
