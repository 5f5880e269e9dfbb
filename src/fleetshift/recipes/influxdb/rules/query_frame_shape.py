"""query DataFrames have the InfluxDB 3 shape

time (tz-naive UTC), tags, one column per field; no result/table/_start/_stop
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fleetshift.recipes.influxdb.rules import SQL_DOCS
from fleetshift.recipes.rule import INFO, rule

if TYPE_CHECKING:
    import libcst as cst

    from fleetshift.recipes.influxdb.plan import Planning

RULE = rule(__name__, __doc__, INFO, link=SQL_DOCS, order=21)


def note(p: Planning, call: cst.Call) -> None:
    """A `query_data_frame()` rewritten to `query(..., mode="pandas")`: what changes in the frame."""
    p.note(
        "query-frame-shape",
        call,
        "the DataFrame now has the InfluxDB 3 shape: `time` (tz-naive UTC), tag columns and one column per "
        "field; no result/table/_start/_stop/_measurement columns",
    )
