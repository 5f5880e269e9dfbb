"""Client(max_queued_messages=) is max_queued_outgoing_messages=

The keyword is renamed.
"""

from __future__ import annotations

from fleetshift.recipes.aiomqtt.edits import CallOp, PlannedFix, keyword_sites
from fleetshift.recipes.aiomqtt.facts import Facts, Site
from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, since="2.0.0", order=2)

RENAME = CallOp("rename", "max_queued_messages", "max_queued_outgoing_messages")


def check(facts: Facts) -> list[Site]:
    """max_queued_messages= on a Client(...) call."""
    return keyword_sites(facts, "max-queued-messages", RENAME)


class Fix(PlannedFix):
    """Rename the keyword."""
