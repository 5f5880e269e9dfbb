"""Client(message_retry_set=) was removed (it was a no-op in paho 1.6)

The keyword is deleted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fleetshift.recipes.aiomqtt.edits import CallOp, PlannedFix
from fleetshift.recipes.aiomqtt.facts import Facts, Site
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    pass

RULE = rule(__name__, __doc__, AUTO, since="2.0.0", order=3)

DROP = CallOp("drop", "message_retry_set")


def check(facts: Facts) -> list[Site]:
    """message_retry_set= on a Client(...) call."""
    if not facts.mqtt_file:
        return []
    return [
        facts.site("message-retry-set", kw, edits=((facts.key(call), DROP),), order=order)
        for call, kw, order in facts.client_keywords()
        if kw.arg == "message_retry_set"
    ]


class Fix(PlannedFix):
    """Delete the keyword."""

    check = staticmethod(check)
