"""`scope=` on the asyncio marker

renamed to loop_scope= (scope= is deprecated and an error under filterwarnings=error)
"""

from fleetshift.recipes.pytest_asyncio.rules import MIGRATE_023
from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, since="0.24", link=MIGRATE_023, order=5)
