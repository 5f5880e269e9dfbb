"""bare write_api() batched writes in influxdb-client; influxdb3-python writes synchronously by default

writes now block and raise; add write_client_options(write_options=WriteOptions()) to keep batching
"""

from fleetshift.recipes.influxdb.rules import V3_README
from fleetshift.recipes.rule import INFO, rule

RULE = rule(__name__, __doc__, INFO, link=V3_README, order=13)
