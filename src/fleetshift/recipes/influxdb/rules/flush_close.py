"""write_api.flush()/close() -> client.flush()

client.flush() sends buffered writes (close() of the client closes everything)
"""

from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, since="0.17.0", order=10)
