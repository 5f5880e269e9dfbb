"""except ApiException around a query never catches influxdb3-python query errors

query errors are InfluxDB3ClientQueryError (no .status, not an InfluxDBError): catch it, or
InfluxDB3ClientError for reads and writes, and check what the handler reads
"""

from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, order=26)
