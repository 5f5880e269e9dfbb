"""write_api().write(bucket=, org=, record=) -> client.write(record=, database=)

the write_api object collapses into the client; positional arguments become keywords
"""

from fleetshift.recipes.influxdb.rules import V3_README
from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, link=V3_README, order=8)
