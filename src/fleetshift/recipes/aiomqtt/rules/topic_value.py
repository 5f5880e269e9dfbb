"""message.topic is an aiomqtt Topic, not the str filtered/unfiltered_messages() gave

String uses of message.topic (compare, str methods, keys, arguments) read message.topic.value.
"""

from __future__ import annotations

from fleetshift.recipes.aiomqtt.edits import PlannedFix
from fleetshift.recipes.aiomqtt.facts import Facts, Site
from fleetshift.recipes.aiomqtt.loops import sites_of
from fleetshift.recipes.aiomqtt.rules import GUIDE
from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, since="2.0.0", link=GUIDE, order=7)


def check(facts: Facts) -> list[Site]:
    """String uses of `m.topic` in a loop over filtered/unfiltered messages that messages-iterator rewrites."""
    return sites_of(facts, "topic-value")


class Fix(PlannedFix):
    """`m.topic` -> `m.topic.value`."""
