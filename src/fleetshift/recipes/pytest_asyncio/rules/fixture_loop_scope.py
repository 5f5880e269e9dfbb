"""wider-scoped async fixture without loop_scope

loop_scope=<scope> is added (pytest_asyncio.fixture, since pytest.fixture has no loop_scope); without it
the fixture fails with ScopeMismatch once asyncio_default_fixture_loop_scope is function
"""

from fleetshift.recipes.pytest_asyncio.rules import MIGRATE_023
from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, since="0.24", link=MIGRATE_023, order=6)
