"""tenacity 9.1.2 needs Python >=3.9, 9.1.3+ need >=3.10

drop Python 3.8 (and 3.9 for tenacity>=9.1.3) from requires-python, or pin an older tenacity
"""

from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="9.1.2", link="https://github.com/jd/tenacity/pull/552", order=17)
