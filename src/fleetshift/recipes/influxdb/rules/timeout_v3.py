"""InfluxDBClient3(timeout=) raises TypeError on 0.17-0.20 and is ignored on 0.21

use write_timeout= and query_timeout= (milliseconds)
"""

from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="0.16.0", order=30)
