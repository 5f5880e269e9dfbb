"""async test without an asyncio marker in strict mode

@pytest.mark.asyncio is added (pytest 8.3 skipped such a test; pytest >=8.4 fails it)
"""

from fleetshift.recipes.pytest_asyncio.rules import CONCEPTS
from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, since="0.19", link=CONCEPTS, order=12)
