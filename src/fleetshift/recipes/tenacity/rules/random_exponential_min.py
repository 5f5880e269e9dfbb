"""`wait_random_exponential(min=...)` is now honoured

wait_random_exponential(min=...) now really waits at least min (tenacity>=9.0); back-off gets longer.
Keep it (intended) or drop min= to keep 8.x timing
"""

from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="9.0.0", link="https://github.com/jd/tenacity/pull/425", order=10)
