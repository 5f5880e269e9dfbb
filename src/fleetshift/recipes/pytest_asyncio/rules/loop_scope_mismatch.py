"""tests widened to a shared loop use fixtures from elsewhere

tests here run in a wider loop but async fixtures from conftest default to a function loop; objects
bound to a loop (futures, locks, clients) will break — give those fixtures the same loop_scope
"""

from fleetshift.recipes.pytest_asyncio.rules import CONCEPTS
from fleetshift.recipes.rule import INFO, rule

RULE = rule(__name__, __doc__, INFO, since="1.0.0", link=CONCEPTS, order=17)
