"""a patch target names `tenacity._asyncio`, which no longer exists

tenacity._asyncio was removed in 8.4; patch "asyncio.sleep" or pass sleep= to AsyncRetrying
"""

from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="8.4.0", link="https://github.com/jd/tenacity/pull/451", order=1)
