"""InfluxDBClient3 needs database= (required at construction on 0.21)

pass database=<bucket> to InfluxDBClient3
"""

from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="0.21.0", order=4)
