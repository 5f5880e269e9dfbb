"""generator expression as parametrize argvalues

turned into a list comprehension (non-Collection iterables are deprecated in 9.1)
"""

from fleetshift.recipes.pytest9.rules import DEPRECATIONS
from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, since="9.1", link=DEPRECATIONS, order=13)
