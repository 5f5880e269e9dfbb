"""a test or fixture requests the removed `event_loop` fixture

async functions use asyncio.get_running_loop(); sync ones whose only use is
event_loop.run_until_complete(E) become async and await E; otherwise convert <name> to an async
test/fixture and use asyncio.get_running_loop() (pytest-asyncio >=1.0 removed the event_loop fixture)
"""

from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, since="1.0.0", order=0)
