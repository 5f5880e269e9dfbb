"""a sync function with an async `sleep=` now returns a coroutine

from tenacity 9.1.3 a sync function with an async sleep= returns a coroutine; make it async (and await
callers) or use a sync sleep
"""

from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="9.1.3", link="https://github.com/jd/tenacity/pull/551", order=11)
