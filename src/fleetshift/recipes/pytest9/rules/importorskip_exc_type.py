"""pytest.importorskip without exc_type

from pytest 9.1 importorskip skips only on ModuleNotFoundError and fails the test on any other
ImportError; pass exc_type=ImportError to keep the old behaviour or exc_type=ModuleNotFoundError to
accept the new one
"""

from fleetshift.recipes.pytest9.rules import DEPRECATIONS
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="9.1", link=DEPRECATIONS, order=3)
