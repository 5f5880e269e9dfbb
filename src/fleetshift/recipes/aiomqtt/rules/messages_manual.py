"""a message-stream shape that has no mechanical translation

Consume `async for message in client.messages` once per client (set
Client(max_queued_incoming_messages=, queue_type=) if needed) and dispatch with
message.topic.matches(...).
"""

from fleetshift.recipes.aiomqtt.rules import GUIDE
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="2.0.0", link=GUIDE, order=10)
