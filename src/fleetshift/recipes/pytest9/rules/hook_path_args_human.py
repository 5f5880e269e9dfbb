"""py.path hook argument used in a way pathlib does not support

the hook argument is removed in pytest 9.1 (PluginValidationError) and its replacement is a
pathlib.Path: port .check()/.join()/.fnmatch()/... to pathlib by hand
"""

from fleetshift.recipes.pytest9.rules import PY_PATH
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="9.1", link=PY_PATH, order=1)
