"""PytestRemovedIn9Warning used in code

pytest.PytestRemovedIn9Warning does not exist from pytest 9.1; remove this reference
"""

from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="9.1", order=5)
