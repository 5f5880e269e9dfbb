"""Client.connect()/disconnect() were removed

connect() becomes __aenter__() and disconnect() __aexit__(None, None, None), each where it is (a
connect(timeout=T) sets client.timeout = T around it); connect() followed by try/finally disconnect()
becomes `async with client:`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fleetshift.recipes.aiomqtt.edits import PlannedFix
from fleetshift.recipes.aiomqtt.facts import Facts, Site
from fleetshift.recipes.aiomqtt.lifecycle import (
    DEFAULT_TIMEOUT,
    DropStatement,
    TryToWith,
    WithTimeout,
    sites_of,
)
from fleetshift.recipes.aiomqtt.rules import GUIDE
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    import libcst as cst

RULE = rule(__name__, __doc__, AUTO, since="2.0.0", link=GUIDE, order=8)


def check(facts: Facts) -> list[Site]:
    """Awaited connect()/disconnect() statements on a known Client (judged with connect-manual, in lifecycle)."""
    return sites_of(facts, "connect-disconnect")


class Fix(PlannedFix):
    """Rename the pair's methods, or fold connect()/try/finally disconnect() into `async with`."""

    def __init__(self, facts: Facts) -> None:
        super().__init__(facts)
        self.pending_leading: list[list[cst.EmptyLine]] = []

    def leave_SimpleStatementLine(
        self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine
    ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement] | cst.RemovalSentinel:
        import libcst as cst

        if len(original.body) != 1 or not self.edits:
            return updated
        small = original.body[0]
        if not (
            isinstance(small, cst.Expr)
            and isinstance(small.value, cst.Await)
            and isinstance(small.value.expression, cst.Call)
        ):
            return updated
        edits = self.at(small.value.expression)
        if any(isinstance(e, DropStatement) for e in edits):
            self.pending_leading.append(list(updated.leading_lines))
            return cst.RemoveFromParent()
        timeout = next((e for e in edits if isinstance(e, WithTimeout)), None)
        if timeout is None:
            return updated
        before = cst.parse_statement(f"{timeout.receiver}.timeout = {timeout.code}\n")
        after = cst.parse_statement(f"{timeout.receiver}.timeout = {DEFAULT_TIMEOUT}\n")
        return cst.FlattenSentinel(
            [
                before.with_changes(leading_lines=updated.leading_lines),
                updated.with_changes(leading_lines=()),
                after,
            ]
        )

    def leave_Try(self, original: cst.Try, updated: cst.Try) -> cst.BaseStatement:
        import libcst as cst

        try_to_with = self.first(original, TryToWith)
        if try_to_with is None:
            return updated
        recv = try_to_with.receiver
        lead = self.pending_leading.pop() if self.pending_leading else []
        return cst.With(
            items=[cst.WithItem(item=cst.parse_expression(recv))],
            body=updated.body,
            asynchronous=cst.Asynchronous(),
            leading_lines=[*lead, *updated.leading_lines],
        )
