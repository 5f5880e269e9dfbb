"""Client(message_retry_set=) was removed (it was a no-op in paho 1.6)

The keyword is deleted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fleetshift.recipes.aiomqtt.edits import CallOp, edit_call, key_of, planned, positions
from fleetshift.recipes.aiomqtt.facts import Facts, Site
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    import libcst as cst

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


class Fix:
    """Delete the keyword."""

    def __init__(self, facts: Facts) -> None:
        self.edits = planned(check(facts))
        self.METADATA_DEPENDENCIES = positions()

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        ops = self.edits.get(key_of(self, original)) if self.edits else None
        return edit_call(updated, ops) if ops else updated
