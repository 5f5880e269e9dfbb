"""a message from filtered/unfiltered_messages() (paho MQTTMessage with a str topic) is passed on

The message is now an aiomqtt Message: .topic is a Topic (use .topic.value), and
.timestamp/.dup/.state/.info are gone; check the code that receives it.
"""

from __future__ import annotations

from fleetshift.recipes.aiomqtt.facts import Facts, Site
from fleetshift.recipes.aiomqtt.loops import sites_of
from fleetshift.recipes.aiomqtt.rules import GUIDE
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="2.0.0", link=GUIDE, order=11)


def check(facts: Facts) -> list[Site]:
    """A converted loop that passes its message on (its consumers see an aiomqtt Message)."""
    return sites_of(facts, "message-type")
