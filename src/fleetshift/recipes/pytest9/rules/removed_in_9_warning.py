"""PytestRemovedIn9Warning referenced

filters naming PytestRemovedIn9Warning are deleted: the class no longer exists in pytest 9.1 and a
config filter naming it stops pytest with exit code 4
"""

from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, since="9.1", order=4)
