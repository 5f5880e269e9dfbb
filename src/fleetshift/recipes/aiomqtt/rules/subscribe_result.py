"""subscribe() returns a list of ReasonCode, not a tuple of ints

Compare elements (r[0] == 1 still holds) instead of the whole result against a tuple.
"""

from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="2.2.0", order=16)
