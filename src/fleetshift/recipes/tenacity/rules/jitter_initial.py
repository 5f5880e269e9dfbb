"""`wait_exponential_jitter(initial=)` is deprecated for `multiplier=`

rename initial= to multiplier= (only when the target is >=9.2; multiplier= does not exist before)
"""

from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, since="9.2.1", min_target="9.2.1", link="https://github.com/jd/tenacity/pull/629", order=15)
