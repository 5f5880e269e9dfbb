"""write options the recipe could not move

move them to InfluxDBClient3(write_client_options=write_client_options(...))
"""

from fleetshift.recipes.influxdb.rules import V3_README
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, link=V3_README, order=12)
