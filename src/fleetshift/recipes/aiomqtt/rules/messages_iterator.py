"""messages()/filtered_messages()/unfiltered_messages() contexts were replaced by the client.messages iterator

A lone context with one async-for becomes `async for m in client.messages`; a filter becomes `if
m.topic.matches(f):`.
"""

from fleetshift.recipes.aiomqtt.rules import GUIDE
from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, since="2.0.0", link=GUIDE, order=5)
