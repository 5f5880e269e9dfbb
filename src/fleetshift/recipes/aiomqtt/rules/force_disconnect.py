"""Client.force_disconnect() was removed

An awaited force_disconnect() on a known Client becomes __aexit__(None, None, None), which forces the
disconnection when it cannot disconnect cleanly; elsewhere, leave the `async with` block instead.
"""

from __future__ import annotations

from fleetshift.recipes.aiomqtt.edits import PlannedFix
from fleetshift.recipes.aiomqtt.facts import Facts, Site
from fleetshift.recipes.aiomqtt.lifecycle import sites_of
from fleetshift.recipes.aiomqtt.rules import GUIDE
from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, since="1.0.0", link=GUIDE, order=13)


def check(facts: Facts) -> list[Site]:
    """force_disconnect() calls: rewritten when awaited on a known Client, a Finding otherwise (in lifecycle)."""
    return sites_of(facts, "force-disconnect")


class Fix(PlannedFix):
    """force_disconnect() -> __aexit__(None, None, None)."""
