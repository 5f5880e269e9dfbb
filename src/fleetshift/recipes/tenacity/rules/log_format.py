"""`after_log`/`before_sleep_log` format seconds with `%.3g`

after_log gets sec_format="%0.3f" (valid on 8.x too); before_sleep_log gets sec_format="%s" when the
target is >=9.1.3
"""

from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, since="9.1.3", link="https://github.com/jd/tenacity/pull/489", order=12)
