"""a mark with an effect intended on a fixture

marks cannot be applied to fixtures (collection error from pytest 9.0); for usefixtures move the
dependency into the fixture's parameters, otherwise move the mark to the tests
"""

from fleetshift.recipes.pytest9.rules import DEPRECATIONS
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="9.0", link=DEPRECATIONS, order=8)
