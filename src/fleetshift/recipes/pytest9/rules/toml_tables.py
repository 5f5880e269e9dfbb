"""[tool.pytest] and [tool.pytest.ini_options] together

pytest 9 stops with 'Cannot use both [tool.pytest] and [tool.pytest.ini_options]'; keep one table (the
native [tool.pytest] is typed: addopts must be a list)
"""

from fleetshift.recipes.pytest9.rules import CUSTOMIZE
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="9.0", link=CUSTOMIZE, order=15)
