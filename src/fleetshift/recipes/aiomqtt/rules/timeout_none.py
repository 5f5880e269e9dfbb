"""per-call timeout=None meant 'forever' in asyncio-mqtt and means 'client default, 10 s' since aiomqtt 1.0

timeout=None becomes timeout=math.inf (import math added).
"""

from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, since="1.0.0", order=4)
