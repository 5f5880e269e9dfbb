"""ASYNCHRONOUS writes are deprecated in influxdb3-python

prefer synchronous writes (asyncio.to_thread in coroutines)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fleetshift.recipes.rule import INFO, rule

if TYPE_CHECKING:
    import libcst as cst

    from fleetshift.recipes.influxdb.plan import Planning

RULE = rule(__name__, __doc__, INFO, order=14)


def note(p: Planning, call: cst.Call) -> None:
    p.note(
        "write-async",
        call,
        "ASYNCHRONOUS writes are deprecated in influxdb3-python (write() returns an ApplyResult and warns); "
        "prefer synchronous writes, in coroutines via `await asyncio.to_thread(client.write, ...)`",
    )
