"""overlapping paths on the command line collect once

`pytest a/ a/b` collects a/ once from 9.0; use --keep-duplicates in CI for the old behaviour
"""

from fleetshift.recipes.rule import INFO, rule

RULE = rule(__name__, __doc__, INFO, since="9.0", order=20)
