"""a patched `asyncio.sleep` now also sees tenacity's back-off sleeps

asyncio.sleep patch now also sees tenacity back-off sleeps (tenacity>=8.3); adjust call-count assertions
or pass sleep= explicitly
"""

from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="8.3.0", link="https://github.com/jd/tenacity/pull/450", order=7)
