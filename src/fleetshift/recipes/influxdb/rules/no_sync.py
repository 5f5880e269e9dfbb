"""WriteOptions(no_sync=True) raises ValueError on 0.20+ unless the v3 write API is used

add write_use_v2_api=False (0.20+) or drop no_sync
"""

from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="0.20.0", order=29)
