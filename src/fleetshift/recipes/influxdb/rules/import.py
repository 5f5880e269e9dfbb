"""imports move from influxdb_client to influxdb_client_3

InfluxDBClient -> InfluxDBClient3; Point, WritePrecision, WriteOptions, SYNCHRONOUS, PointSettings,
WriteType and InfluxDBError come from influxdb_client_3; unused v2 imports are removed
"""

from fleetshift.recipes.influxdb.rules import V3_README
from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, link=V3_README, order=0)
