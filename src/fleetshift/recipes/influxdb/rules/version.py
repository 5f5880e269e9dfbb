"""client.version() -> client.get_server_version()

renamed
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    from fleetshift.recipes.influxdb.plan import Planning

RULE = rule(__name__, __doc__, AUTO, since="0.15.0", order=23)
STAGE = 0


def plan(p: Planning) -> None:
    import libcst as cst

    from fleetshift.recipes.influxdb.rules.no_equivalent import same_calls

    for call in p.facts.analysis.calls:
        f = call.func
        if isinstance(f, cst.Attribute) and f.attr.value == "version" and not call.args:
            if any(
                not c.args and p.facts.receivers.kind(c.func.value) == "client" for c in same_calls(p, call)
            ):  # type: ignore[attr-defined]
                p.set(f.attr, lambda n: n.with_changes(value="get_server_version"))
