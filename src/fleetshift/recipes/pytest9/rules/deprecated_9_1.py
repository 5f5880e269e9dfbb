"""API deprecated in pytest 9.1 or removed

config.inicfg, --pastebin and pytest.console_main are deprecated in pytest 9.1; use config.getini(),
drop --pastebin, call pytest.main()
"""

from fleetshift.recipes.pytest9.rules import DEPRECATIONS
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="9.1", link=DEPRECATIONS, order=18)
