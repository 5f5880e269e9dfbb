"""messages(queue_maxsize=)/queue_class= moved to Client(max_queued_incoming_messages=)/queue_type=

The argument moves to the Client constructor.
"""

from __future__ import annotations

from fleetshift.recipes.aiomqtt.edits import PlannedFix
from fleetshift.recipes.aiomqtt.facts import Facts, Site
from fleetshift.recipes.aiomqtt.loops import sites_of
from fleetshift.recipes.aiomqtt.rules import GUIDE
from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, since="2.0.0", link=GUIDE, order=6)


def check(facts: Facts) -> list[Site]:
    """The queue arguments of a message stream that messages-iterator rewrites."""
    return sites_of(facts, "incoming-queue-args")


class Fix(PlannedFix):
    """Add the keyword to the Client constructor (the stream's own call goes with its `async with`)."""
