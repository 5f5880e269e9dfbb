"""messages()/filtered_messages()/unfiltered_messages() contexts were replaced by the client.messages iterator

A lone context with one async-for becomes `async for m in client.messages`; a filter becomes `if
m.topic.matches(f):`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fleetshift.recipes.aiomqtt.edits import PlannedFix
from fleetshift.recipes.aiomqtt.facts import Facts, Site
from fleetshift.recipes.aiomqtt.loops import FLATTEN, ForOp, sites_of
from fleetshift.recipes.aiomqtt.rules import GUIDE
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    import libcst as cst

RULE = rule(__name__, __doc__, AUTO, since="2.0.0", link=GUIDE, order=5)


def check(facts: Facts) -> list[Site]:
    """A message-stream context that one consumer reads alone (judged with the other stream rules, in loops)."""
    return sites_of(facts, "messages-iterator")


class Fix(PlannedFix):
    """The `async with` gives its body to its block; the `async for` reads client.messages, under a filter."""

    def leave_With(
        self, original: cst.With, updated: cst.With
    ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement]:
        import libcst as cst

        if not self.edits or FLATTEN not in self.at(original):
            return updated
        if not isinstance(updated.body, cst.IndentedBlock):
            return updated
        stmts = list(updated.body.body)
        lead = list(updated.leading_lines)
        header = updated.body.header
        if header.comment is not None:
            lead.append(cst.EmptyLine(comment=header.comment))
        stmts[0] = stmts[0].with_changes(leading_lines=[*lead, *stmts[0].leading_lines])
        return cst.FlattenSentinel(stmts)

    def leave_For(self, original: cst.For, updated: cst.For) -> cst.For:
        import libcst as cst

        from fleetshift.recipes._cst import call, expression

        op = self.first(original, ForOp)
        if op is None:
            return updated
        new = updated.with_changes(iter=expression(op.iter_code))
        if op.filter_code is None or not isinstance(new.body, cst.IndentedBlock):
            return new
        body = new.body
        guard = cst.If(
            test=call(f"{op.target}.topic.matches", op.filter_code),
            body=body.with_changes(header=cst.TrailingWhitespace()),
        )
        return new.with_changes(body=cst.IndentedBlock(body=[guard], header=body.header, indent=body.indent))
