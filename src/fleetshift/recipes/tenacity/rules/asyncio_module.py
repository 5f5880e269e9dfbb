"""`tenacity._asyncio` was removed (now `tenacity.asyncio`)

import AsyncRetrying from `tenacity`, other names from `tenacity.asyncio`
"""

from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, since="8.4.0", link="https://github.com/jd/tenacity/pull/451", order=0)
