"""a write the recipe could not rewrite

call client.write(record=..., database=...) on the InfluxDBClient3
"""

from fleetshift.recipes.influxdb.rules import V3_README
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, link=V3_README, order=9)
