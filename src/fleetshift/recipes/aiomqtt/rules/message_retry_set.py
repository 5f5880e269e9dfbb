"""Client(message_retry_set=) was removed (it was a no-op in paho 1.6)

The keyword is deleted.
"""

from __future__ import annotations

from fleetshift.recipes.aiomqtt.edits import CallOp, PlannedFix, keyword_sites
from fleetshift.recipes.aiomqtt.facts import Facts, Site
from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, since="2.0.0", order=3)

DROP = CallOp("drop", "message_retry_set")


def check(facts: Facts) -> list[Site]:
    """message_retry_set= on a Client(...) call."""
    return keyword_sites(facts, "message-retry-set", DROP)


class Fix(PlannedFix):
    """Delete the keyword."""
