"""a query call the recipe could not rewrite

call client.query(sql, database=...) on the InfluxDBClient3
"""

from fleetshift.recipes.influxdb.rules import SQL_DOCS
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, link=SQL_DOCS, order=17)
