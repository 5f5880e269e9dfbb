"""write_api(write_options=WriteOptions(...), *_callback=) options move to the client

InfluxDBClient3(write_client_options=write_client_options(write_options=..., success_callback=..., ...))
"""

from fleetshift.recipes.influxdb.rules import V3_README
from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, link=V3_README, order=11)
