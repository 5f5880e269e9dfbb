"""`x.retry.statistics` on something not known to be a retried function

if it is a tenacity-decorated function, read `.statistics` instead of `.retry.statistics`
"""

from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="8.5.0", link="https://github.com/jd/tenacity/pull/484", order=3)
