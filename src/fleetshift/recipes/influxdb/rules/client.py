"""InfluxDBClient(url=, token=, org=, ...) -> InfluxDBClient3(host=, token=, database=, org=, ...)

url -> host (scheme://host:port), positional arguments become keywords, database= is the bucket used by
the writes/queries
"""

from fleetshift.recipes.influxdb.rules import V3_README
from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, link=V3_README, order=1)
