"""Client(**options) may carry renamed or removed keywords

Check the options for client_id (now identifier), message_retry_set (removed) and max_queued_messages
(now max_queued_outgoing_messages).
"""

from __future__ import annotations

from fleetshift.recipes.aiomqtt.facts import Facts, Site, mqtt_files_only
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="2.0.0", order=22)


@mqtt_files_only
def check(facts: Facts) -> list[Site]:
    """A Client(...) call given `**options`."""
    return [
        facts.human("client-kwargs-dynamic", call, order=order)
        for call, kw, order in facts.client_keywords()
        if kw.arg is None
    ]
