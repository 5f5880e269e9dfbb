"""from_env() reads INFLUX_HOST/INFLUX_TOKEN/INFLUX_DATABASE, not INFLUXDB_V2_*

rename the variables in every deployment file and add INFLUX_DATABASE
"""

from fleetshift.recipes.influxdb.rules import V3_README
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, link=V3_README, order=6)
