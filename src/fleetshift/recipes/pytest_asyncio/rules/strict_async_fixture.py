"""`@pytest.fixture` on an async function in strict mode

becomes @pytest_asyncio.fixture (pytest >=9 errors on an unhandled async fixture)
"""

from fleetshift.recipes.pytest_asyncio.rules import CONFIG
from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, since="0.25", link=CONFIG, order=10)
