"""positional indirect/ids/scope in parametrize

turned into keywords (pytest 9.2 makes them keyword-only: TypeError at collection)
"""

from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, since="9.2", order=12)
