"""Client(**options) may carry renamed or removed keywords

Check the options for client_id (now identifier), message_retry_set (removed) and max_queued_messages
(now max_queued_outgoing_messages).
"""

from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="2.0.0", order=22)
