"""Client(max_queued_messages=) is max_queued_outgoing_messages=

The keyword is renamed.
"""

from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, since="2.0.0", order=2)
