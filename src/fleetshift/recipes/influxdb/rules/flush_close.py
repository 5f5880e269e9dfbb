"""write_api.flush()/close() -> client.flush()

client.flush() sends buffered writes (close() of the client closes everything)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    import libcst as cst

    from fleetshift.recipes.influxdb.plan import Planning

RULE = rule(__name__, __doc__, AUTO, since="0.17.0", order=10)


def plan_call(p: Planning, call: cst.CSTNode, receiver: str | None) -> None:
    """`W.flush()` / `W.close()` on a write_api object -> `<receiver>.flush()` (receiver None: keep W)."""
    import libcst as cst

    from fleetshift.recipes.influxdb.edits import parse_expr

    def fix(n: cst.CSTNode) -> cst.CSTNode:
        func = n.func  # type: ignore[attr-defined]
        value = parse_expr(receiver) if receiver else func.value
        return n.with_changes(func=func.with_changes(value=value, attr=cst.Name("flush")))  # type: ignore[attr-defined]

    p.set(call, fix)
