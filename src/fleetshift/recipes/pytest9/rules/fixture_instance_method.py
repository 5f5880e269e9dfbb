"""wider-scoped fixture defined as an instance method

@classmethod is inserted below the fixture decorator and self renamed to cls (deprecated in 9.1 for
class scope, 9.2 for module/package/session)
"""

from fleetshift.recipes.pytest9.rules import DEPRECATIONS
from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, since="9.1", link=DEPRECATIONS, order=9)
