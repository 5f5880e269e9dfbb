"""query DataFrames have the InfluxDB 3 shape

time (tz-naive UTC), tags, one column per field; no result/table/_start/_stop
"""

from fleetshift.recipes.influxdb.rules import SQL_DOCS
from fleetshift.recipes.rule import INFO, rule

RULE = rule(__name__, __doc__, INFO, link=SQL_DOCS, order=21)
