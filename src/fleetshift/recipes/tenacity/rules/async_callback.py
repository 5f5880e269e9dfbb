"""async callbacks are awaited under AsyncRetrying

async callback is now awaited by tenacity (>=8.3); remove manual awaiting of the result
"""

from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="8.3.0", link="https://github.com/jd/tenacity/pull/437", order=6)
