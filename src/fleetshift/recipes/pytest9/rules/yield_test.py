"""a test function that yields

yield tests are a collection error since pytest 8.4; use parametrize
"""

from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="8.4", order=17)
