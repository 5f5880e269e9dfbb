"""ASYNCHRONOUS writes are deprecated in influxdb3-python

prefer synchronous writes (asyncio.to_thread in coroutines)
"""

from __future__ import annotations

from fleetshift.recipes.influxdb.rules import noted
from fleetshift.recipes.rule import INFO, rule

RULE = rule(__name__, __doc__, INFO, order=14)


note = noted(
    RULE,
    "ASYNCHRONOUS writes are deprecated in influxdb3-python (write() returns an ApplyResult and warns); "
    "prefer synchronous writes, in coroutines via `await asyncio.to_thread(client.write, ...)`",
)
