"""`wait_chain()` with no strategies raises ValueError at construction

give wait_chain() at least one strategy (it raised IndexError on first use before)
"""

from fleetshift.recipes.rule import INFO, rule

RULE = rule(__name__, __doc__, INFO, since="9.2.1", link="https://github.com/jd/tenacity/pull/647", order=16)
