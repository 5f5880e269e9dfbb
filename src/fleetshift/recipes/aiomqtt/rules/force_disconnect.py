"""Client.force_disconnect() was removed

An awaited force_disconnect() on a known Client becomes __aexit__(None, None, None), which forces the
disconnection when it cannot disconnect cleanly; elsewhere, leave the `async with` block instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fleetshift.recipes.aiomqtt.edits import edit_call, key_of, planned, positions
from fleetshift.recipes.aiomqtt.facts import Facts, Site
from fleetshift.recipes.aiomqtt.lifecycle import sites_of
from fleetshift.recipes.aiomqtt.rules import GUIDE
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    import libcst as cst

RULE = rule(__name__, __doc__, AUTO, since="1.0.0", link=GUIDE, order=13)


def check(facts: Facts) -> list[Site]:
    """force_disconnect() calls: rewritten when awaited on a known Client, a Finding otherwise (in lifecycle)."""
    return sites_of(facts, "force-disconnect")


class Fix:
    """force_disconnect() -> __aexit__(None, None, None)."""

    def __init__(self, facts: Facts) -> None:
        self.edits = planned(check(facts))
        self.METADATA_DEPENDENCIES = positions()

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        ops = self.edits.get(key_of(self, original)) if self.edits else None
        return edit_call(updated, ops) if ops else updated
