"""custom `event_loop` fixture override (ignored by pytest-asyncio >=1.0)

a plain override is deleted: root-conftest session/module scope becomes the config defaults
asyncio_default_fixture_loop_scope/asyncio_default_test_loop_scope; a module or class override becomes
loop_scope on the asyncio marker and on the async fixtures defined beside it
"""

from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, since="1.0.0", order=2)
