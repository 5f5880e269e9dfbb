"""`fspath=` argument of Node.from_parent

replaced by path=pathlib.Path(...)
"""

from fleetshift.recipes.pytest9.rules import DEPRECATIONS
from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, since="9.1", link=DEPRECATIONS, order=2)
