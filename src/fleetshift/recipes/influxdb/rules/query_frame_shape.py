"""query DataFrames have the InfluxDB 3 shape

time (tz-naive UTC), tags, one column per field; no result/table/_start/_stop
"""

from __future__ import annotations

from fleetshift.recipes.influxdb.rules import SQL_DOCS, noted
from fleetshift.recipes.rule import INFO, rule

RULE = rule(__name__, __doc__, INFO, link=SQL_DOCS, order=21)


# A `query_data_frame()` rewritten to `query(..., mode="pandas")`: what changes in the frame.
note = noted(
    RULE,
    "the DataFrame now has the InfluxDB 3 shape: `time` (tz-naive UTC), tag columns and one column per "
    "field; no result/table/_start/_stop/_measurement columns",
)
