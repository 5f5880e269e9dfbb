"""asyncio_mode set in the pytest config

kept as it is: strict is the default, so removing auto makes unmarked async tests fail
"""

from fleetshift.recipes.pytest_asyncio.rules import CONFIG
from fleetshift.recipes.rule import INFO, rule

RULE = rule(__name__, __doc__, INFO, since="0.19", link=CONFIG, order=9)
