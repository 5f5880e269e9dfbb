"""timeout= is not accepted by InfluxDBClient3

timeout=T -> write_timeout=T, query_timeout=T (milliseconds)
"""

from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, since="0.16.0", order=2)
