"""`event_loop` override that cannot be translated

this custom event_loop override is ignored by pytest-asyncio >=1.0 (tests and fixtures then silently run
in different loops); port it to loop_scope markers/config defaults, and a custom loop to
pytest_asyncio_loop_factories (pytest-asyncio >=1.4) or an event_loop_policy fixture (1.3)
"""

from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="1.0.0", order=3)
