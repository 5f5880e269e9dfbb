"""pytest.yield_fixture

replaced by pytest.fixture
"""

from fleetshift.recipes.pytest9.rules import DEPRECATIONS
from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, since="9.2", link=DEPRECATIONS, order=11)
