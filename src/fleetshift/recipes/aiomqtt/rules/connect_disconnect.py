"""Client.connect()/disconnect() were removed

A connect()/disconnect() pair becomes __aenter__()/__aexit__(None, None, None), or `async with client:`
around try/finally.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fleetshift.recipes.aiomqtt.edits import CallOp, edit_call, key_of, planned, positions
from fleetshift.recipes.aiomqtt.facts import Facts, Site
from fleetshift.recipes.aiomqtt.lifecycle import DropStatement, TryToWith, sites_of
from fleetshift.recipes.aiomqtt.rules import GUIDE
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    import libcst as cst

RULE = rule(__name__, __doc__, AUTO, since="2.0.0", link=GUIDE, order=8)


def check(facts: Facts) -> list[Site]:
    """connect()/disconnect() pairs on one known Client (judged with connect-manual, in lifecycle)."""
    return sites_of(facts, "connect-disconnect")


class Fix:
    """Rename the pair's methods, or fold connect()/try/finally disconnect() into `async with`."""

    def __init__(self, facts: Facts) -> None:
        self.edits = planned(check(facts))
        self.METADATA_DEPENDENCIES = positions()
        self.pending_leading: list[list[cst.EmptyLine]] = []

    def _at(self, node: cst.CSTNode) -> list[object]:
        return self.edits.get(key_of(self, node), []) if self.edits else []

    def leave_SimpleStatementLine(
        self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine
    ) -> cst.BaseStatement | cst.RemovalSentinel:
        import libcst as cst

        if len(original.body) == 1 and self.edits:
            small = original.body[0]
            if (
                isinstance(small, cst.Expr)
                and isinstance(small.value, cst.Await)
                and isinstance(small.value.expression, cst.Call)
                and any(isinstance(e, DropStatement) for e in self._at(small.value.expression))
            ):
                self.pending_leading.append(list(updated.leading_lines))
                return cst.RemoveFromParent()
        return updated

    def leave_Try(self, original: cst.Try, updated: cst.Try) -> cst.BaseStatement:
        import libcst as cst

        recv = next((e.receiver for e in self._at(original) if isinstance(e, TryToWith)), None)
        if recv is None:
            return updated
        lead = self.pending_leading.pop() if self.pending_leading else []
        return cst.With(
            items=[cst.WithItem(item=cst.parse_expression(recv))],
            body=updated.body,
            asynchronous=cst.Asynchronous(),
            leading_lines=[*lead, *updated.leading_lines],
        )

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        ops = [e for e in self._at(original) if isinstance(e, CallOp)]
        return edit_call(updated, ops) if ops else updated
