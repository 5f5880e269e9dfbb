"""several concurrent message consumers now split one client-wide queue instead of each getting a copy

asyncio-mqtt per-generator queues were removed in aiomqtt 2.0: a single client.messages queue is shared
(messages are split between concurrent consumers; unmatched messages accumulate). Restructure into one
consumer with message.topic.matches(...) or a distributor.
"""

from __future__ import annotations

from fleetshift.recipes.aiomqtt.facts import Facts, Site
from fleetshift.recipes.aiomqtt.loops import sites_of
from fleetshift.recipes.aiomqtt.rules import GUIDE
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="2.0.0", link=GUIDE, order=9)


def check(facts: Facts) -> list[Site]:
    """Message consumers that would share one client-wide queue (several, or one that may run twice at once)."""
    return sites_of(facts, "shared-message-queue")
