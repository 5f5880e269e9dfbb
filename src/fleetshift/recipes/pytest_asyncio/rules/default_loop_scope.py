"""asyncio_default_fixture_loop_scope unset

asyncio_default_fixture_loop_scope is written to the active pytest config (unset it warns, and pytest
>=9.2 with filterwarnings=error stops with INTERNALERROR)
"""

from fleetshift.recipes.pytest_asyncio.rules import CONFIG
from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, since="0.24", link=CONFIG, order=8)
