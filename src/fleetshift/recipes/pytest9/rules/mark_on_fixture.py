"""a mark applied to a fixture

@pytest.mark.asyncio on a fixture is deleted (it never had an effect); pytest 9.0 fails collection
"""

from fleetshift.recipes.pytest9.rules import DEPRECATIONS
from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, since="9.0", link=DEPRECATIONS, order=7)
