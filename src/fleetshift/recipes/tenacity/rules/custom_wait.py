"""a custom wait is now also evaluated on the final attempt

custom wait strategy is now also evaluated on the final attempt (tenacity>=8.3); make it side-effect
free
"""

from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="8.3.0", link="https://github.com/jd/tenacity/pull/423", order=5)
