"""InfluxDBClient.from_config_file() has no equivalent

read the config with configparser and build InfluxDBClient3(host=, token=, org=, database=)
"""

from fleetshift.recipes.influxdb.rules import V3_README
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, link=V3_README, order=7)
