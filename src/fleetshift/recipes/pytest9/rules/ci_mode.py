"""CI detection

CI mode needs a non-empty $CI or $BUILD_NUMBER from 9.0
"""

from fleetshift.recipes.rule import INFO, rule

RULE = rule(__name__, __doc__, INFO, since="9.0", order=21)
