"""a message-stream shape that has no mechanical translation

Consume `async for message in client.messages` once per client (set
Client(max_queued_incoming_messages=, queue_type=) if needed) and dispatch with
message.topic.matches(...).
"""

from __future__ import annotations

from fleetshift.recipes.aiomqtt.facts import Facts, Site
from fleetshift.recipes.aiomqtt.loops import sites_of
from fleetshift.recipes.aiomqtt.rules import GUIDE
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="2.0.0", link=GUIDE, order=10)


def check(facts: Facts) -> list[Site]:
    """A message stream used in a shape with no mechanical translation, with the reason."""
    return sites_of(facts, "messages-manual")
