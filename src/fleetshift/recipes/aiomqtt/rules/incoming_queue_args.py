"""messages(queue_maxsize=)/queue_class= moved to Client(max_queued_incoming_messages=)/queue_type=

The argument moves to the Client constructor.
"""

from fleetshift.recipes.aiomqtt.rules import GUIDE
from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, since="2.0.0", link=GUIDE, order=6)
