"""Client(message_retry_set=) was removed (it was a no-op in paho 1.6)

The keyword is deleted.
"""

from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, since="2.0.0", order=3)
