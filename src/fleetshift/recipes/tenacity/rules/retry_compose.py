"""`retry_strategy | plain_function` raises AttributeError on 8.4-9.1.4

rewrite to retry_any(...) / retry_all(...), valid on every version
"""

from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, since="8.4.0", link="https://github.com/jd/tenacity/pull/606", order=8)
