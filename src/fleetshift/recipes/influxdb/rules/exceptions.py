"""ApiException / influxdb_client InfluxDBError -> influxdb_client_3.InfluxDBError

write errors subclass influxdb_client_3.InfluxDBError; query errors are InfluxDB3ClientQueryError (catch
InfluxDB3ClientError for both)
"""

from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, order=25)
