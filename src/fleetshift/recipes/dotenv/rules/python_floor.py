"""python-dotenv 1.1 needs Python >=3.9, 1.2.2+ need >=3.10

drop Python 3.8 (and 3.9 for python-dotenv>=1.2.2) from requires-python, or pin an older release
"""

from fleetshift.recipes.rule import HUMAN, rule

# judged once for every recipe, with the pins and the service's Pythons (fleetshift.recipes._floors)
RULE = rule(__name__, __doc__, HUMAN, since="1.2.2", order=1)
