"""Client(max_queued_messages=) is max_queued_outgoing_messages=

The keyword is renamed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fleetshift.recipes.aiomqtt.edits import CallOp, PlannedFix
from fleetshift.recipes.aiomqtt.facts import Facts, Site
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    pass

RULE = rule(__name__, __doc__, AUTO, since="2.0.0", order=2)

RENAME = CallOp("rename", "max_queued_messages", "max_queued_outgoing_messages")


def check(facts: Facts) -> list[Site]:
    """max_queued_messages= on a Client(...) call."""
    if not facts.mqtt_file:
        return []
    return [
        facts.site("max-queued-messages", kw, edits=((facts.key(call), RENAME),), order=order)
        for call, kw, order in facts.client_keywords()
        if kw.arg == "max_queued_messages"
    ]


class Fix(PlannedFix):
    """Rename the keyword."""

    check = staticmethod(check)
