"""ASYNCHRONOUS writes are deprecated in influxdb3-python

prefer synchronous writes (asyncio.to_thread in coroutines)
"""

from fleetshift.recipes.rule import INFO, rule

RULE = rule(__name__, __doc__, INFO, order=14)
