"""Client(client_id=) is identifier=, client.id is client.identifier

client_id= becomes identifier=; .id on a known Client becomes .identifier.
"""

from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, since="2.0.0", order=1)
