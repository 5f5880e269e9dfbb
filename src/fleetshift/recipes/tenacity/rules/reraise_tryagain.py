"""`reraise=True` + `raise TryAgain` in `except` re-raises the underlying error

with reraise=True, TryAgain raised inside an except block now surfaces the original exception
(tenacity>=9.2); update callers that catch TryAgain
"""

from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="9.2.1", link="https://github.com/jd/tenacity/pull/640", order=14)
