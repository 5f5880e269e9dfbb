"""asyncio.get_event_loop() in sync code

sync call to asyncio.get_event_loop(): fails with pytest-asyncio >=1.4 after any async test, and on
Python >=3.14; use asyncio.run()/asyncio.Runner, an async fixture, or @pytest_asyncio.fixture
"""

from fleetshift.recipes.pytest_asyncio.rules import CHANGELOG
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="1.4.0", link=CHANGELOG, order=16)
