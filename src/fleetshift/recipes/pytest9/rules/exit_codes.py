"""usage-error and plugin-import exit codes

a missing -c path is a usage error and plugin import failures exit 4/3 instead of 1 from 9.2
"""

from fleetshift.recipes.rule import INFO, rule

RULE = rule(__name__, __doc__, INFO, since="9.2", order=22)
