"""Flux is not supported by InfluxDB 3

translate the query to SQL (the Finding carries a proposed SQL where there is one)
"""

from fleetshift.recipes.influxdb.rules import FLUX_FUTURE
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, link=FLUX_FUTURE, order=18)
