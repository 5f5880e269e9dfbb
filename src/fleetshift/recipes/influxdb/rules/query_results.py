"""FluxTable/FluxRecord readers -> rows of one Arrow table

for table in tables: for record in table.records -> for record in tables.to_pylist(); get_value() ->
record[field]; get_time() -> record["time"] made UTC-aware
"""

from fleetshift.recipes.influxdb.rules import SQL_DOCS
from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, link=SQL_DOCS, order=19)
