"""wider-scoped instance-method fixture that uses its instance

the fixture uses self beyond class attributes; make it a @classmethod (below the fixture decorator) or a
module-level fixture by hand
"""

from fleetshift.recipes.pytest9.rules import DEPRECATIONS
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="9.1", link=DEPRECATIONS, order=10)
