"""`event_loop` requested by name (getfixturevalue / usefixtures)

pytest-asyncio >=1.0 removed the event_loop fixture; request nothing and use asyncio.get_running_loop()
inside an async test or fixture
"""

from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="1.0.0", order=1)
