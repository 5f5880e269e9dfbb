"""bare write_api() batched writes in influxdb-client; influxdb3-python writes synchronously by default

writes now block and raise; add write_client_options(write_options=WriteOptions()) to keep batching
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fleetshift.recipes.influxdb.rules import V3_README
from fleetshift.recipes.rule import INFO, rule

if TYPE_CHECKING:
    import libcst as cst

    from fleetshift.recipes.influxdb.plan import Planning

RULE = rule(__name__, __doc__, INFO, link=V3_README, order=13)


def note(p: Planning, call: cst.Call) -> None:
    """A `write_api()` without write_options= is rewritten to synchronous writes: said once per call."""
    p.note(
        "write-api-batching",
        call,
        "bare write_api() batched writes in the background on influxdb-client (WriteOptions() default); "
        "influxdb3-python writes synchronously by default, so each write() now blocks and raises on error. "
        "For batching add `write_client_options=write_client_options(write_options=WriteOptions())` to "
        "InfluxDBClient3",
    )
