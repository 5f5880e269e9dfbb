"""influxdb3-python has no async client

use InfluxDBClient3 with await client.query_async(...) and asyncio.to_thread(client.write, ...)
"""

from fleetshift.recipes.influxdb.rules import V3_README
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, link=V3_README, order=24)
