"""`event_loop_policy` fixture override (deprecated in 1.4)

overriding event_loop_policy warns from pytest-asyncio 1.4 (an error under filterwarnings=error); use
the pytest_asyncio_loop_factories(config, item) hook once pinned to >=1.4 (the hook name is rejected by
1.3)
"""

from fleetshift.recipes.pytest_asyncio.rules import CHANGELOG
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="1.4.0", link=CHANGELOG, order=4)
