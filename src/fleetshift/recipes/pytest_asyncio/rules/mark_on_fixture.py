"""a mark applied to a fixture

@pytest.mark.asyncio on a fixture is deleted (it never had an effect; pytest >=9 fails collection)
"""

from fleetshift.recipes.pytest_asyncio.rules import CHANGELOG
from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, since="9.0", link=CHANGELOG, order=14)
