"""bare write_api() batched writes in influxdb-client; influxdb3-python writes synchronously by default

writes now block and raise; add write_client_options(write_options=WriteOptions()) to keep batching
"""

from __future__ import annotations

from fleetshift.recipes.influxdb.rules import V3_README, noted
from fleetshift.recipes.rule import INFO, rule

RULE = rule(__name__, __doc__, INFO, link=V3_README, order=13)


# A `write_api()` without write_options= is rewritten to synchronous writes: said once per call.
note = noted(
    RULE,
    "bare write_api() batched writes in the background on influxdb-client (WriteOptions() default); "
    "influxdb3-python writes synchronously by default, so each write() now blocks and raises on error. "
    "For batching add `write_client_options=write_client_options(write_options=WriteOptions())` to "
    "InfluxDBClient3",
)
