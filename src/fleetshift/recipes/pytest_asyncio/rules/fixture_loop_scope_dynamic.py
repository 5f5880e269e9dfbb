"""async fixture with a non-literal scope

cannot infer loop_scope for a dynamically scoped async fixture; set loop_scope explicitly
"""

from fleetshift.recipes.pytest_asyncio.rules import MIGRATE_023
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="0.24", link=MIGRATE_023, order=7)
