"""client.version() -> client.get_server_version()

renamed
"""

from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, since="0.15.0", order=23)
