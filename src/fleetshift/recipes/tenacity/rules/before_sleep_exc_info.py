"""`before_sleep_log(exc_info=True)` puts the traceback in the message

tenacity>=9.2 no longer passes exc_info to the logger; tracebacks are embedded in the message text
(structured logging, Sentry and caplog .exc_info assertions change)
"""

from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="9.2.1", link="https://github.com/jd/tenacity/pull/622", order=13)
