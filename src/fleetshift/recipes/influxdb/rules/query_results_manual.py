"""result readers the recipe could not rewrite

read rows of the pyarrow.Table: time (tz-naive UTC), tags, one column per field
"""

from fleetshift.recipes.influxdb.rules import SQL_DOCS
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, link=SQL_DOCS, order=20)
