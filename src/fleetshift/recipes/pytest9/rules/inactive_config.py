"""pytest settings in a config file pytest does not read

pytest reads only the first config file and prints 'ignoring pytest config in ...' from 9.0; merge the
settings into the active file
"""

from fleetshift.recipes.pytest9.rules import CUSTOMIZE
from fleetshift.recipes.rule import INFO, rule

RULE = rule(__name__, __doc__, INFO, since="9.0", link=CUSTOMIZE, order=16)
