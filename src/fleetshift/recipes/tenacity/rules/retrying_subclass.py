"""decorated calls run `self.copy()`, which calls `__init__` with the base keywords

since tenacity 8.4.2 decorated calls run self.copy(), which calls __init__ with only the base keywords
(plus name=, enabled= in 9.2); accept **kwargs and/or override copy()
"""

from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="8.4.2", link="https://github.com/jd/tenacity/pull/479", order=4)
