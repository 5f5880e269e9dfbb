"""`--strict` in addopts or tox commands

--strict now turns on every strictness option; replaced by --strict-markers (its old meaning)
"""

from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, since="9.0", order=6)
