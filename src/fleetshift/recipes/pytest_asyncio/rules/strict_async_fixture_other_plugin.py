"""async fixture in a service that also uses anyio/trio

the async fixture may belong to anyio/trio; mark it @pytest_asyncio.fixture if pytest-asyncio should run
it
"""

from fleetshift.recipes.pytest_asyncio.rules import CONFIG
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="0.25", link=CONFIG, order=11)
