"""InfluxDBClient3 has no profilers/auth_basic/username/password

remove them; authenticate with a token
"""

from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="0.20.0", order=27)
