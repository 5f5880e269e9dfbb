"""wide autouse fixtures in test modules with --doctest-modules

with --doctest-modules, module/package/session autouse fixtures defined inside test modules may run
twice from pytest 9.1; move them to conftest.py
"""

from fleetshift.recipes.rule import INFO, rule

RULE = rule(__name__, __doc__, INFO, since="9.1", order=19)
