"""InfluxDBClient.from_env_properties() -> InfluxDBClient3.from_env()

renamed; the environment variables change too (see env-vars)
"""

from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, since="0.13.0", order=5)
