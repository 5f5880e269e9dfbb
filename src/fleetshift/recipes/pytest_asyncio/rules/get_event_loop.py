"""asyncio.get_event_loop() inside a coroutine

replaced by asyncio.get_running_loop()
"""

from fleetshift.recipes.pytest_asyncio.rules import FIXTURES
from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, since="1.4.0", link=FIXTURES, order=15)
