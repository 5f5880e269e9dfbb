"""conftest hook that adds asyncio markers

tests may be marked by a pytest_collection_modifyitems hook; no markers are added in this service
"""

from fleetshift.recipes.pytest_asyncio.rules import MIGRATE_023
from fleetshift.recipes.rule import INFO, rule

RULE = rule(__name__, __doc__, INFO, since="0.23", link=MIGRATE_023, order=13)
