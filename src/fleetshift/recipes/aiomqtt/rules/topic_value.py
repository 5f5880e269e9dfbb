"""message.topic is an aiomqtt Topic, not the str filtered/unfiltered_messages() gave

String uses of message.topic (compare, str methods, keys, arguments) read message.topic.value.
"""

from fleetshift.recipes.aiomqtt.rules import GUIDE
from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, since="2.0.0", link=GUIDE, order=7)
