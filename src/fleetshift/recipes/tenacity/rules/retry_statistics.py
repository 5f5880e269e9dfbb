"""`f.retry.statistics` is empty on tenacity 8.5-9.1; read `f.statistics`

drop `.retry` before `.statistics` on tenacity-decorated functions
"""

from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, since="8.5.0", link="https://github.com/jd/tenacity/pull/484", order=2)
