"""Client(max_queued_messages=) is max_queued_outgoing_messages=

The keyword is renamed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fleetshift.recipes.aiomqtt.edits import CallOp, edit_call, key_of, planned, positions
from fleetshift.recipes.aiomqtt.facts import Facts, Site
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    import libcst as cst

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


class Fix:
    """Rename the keyword."""

    def __init__(self, facts: Facts) -> None:
        self.edits = planned(check(facts))
        self.METADATA_DEPENDENCIES = positions()

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        ops = self.edits.get(key_of(self, original)) if self.edits else None
        return edit_call(updated, ops) if ops else updated
