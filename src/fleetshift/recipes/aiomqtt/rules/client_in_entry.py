"""A module-level Client() used only by the module's entry coroutine is built at import time

aiomqtt>=2.3.1 Client() needs a running event loop. The client is built at the top of the coroutine the
module runs with asyncio.run() (`global client`, then the same call), and the module-level line becomes an
annotation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fleetshift.recipes.aiomqtt.entry import moves
from fleetshift.recipes.aiomqtt.facts import Facts, Site
from fleetshift.recipes.nesting import ModuleLevel
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    import libcst as cst

RULE = rule(__name__, __doc__, AUTO, since="2.3.1", order=13)

NOTE = "# built in {entry}(): aiomqtt 2 needs a running event loop"


def check(facts: Facts) -> list[Site]:
    """Module-level `name = Client(...)` that the rewrite moves into the entry coroutine."""
    return [
        facts.site(
            "client-in-entry",
            move.assign.value,
            f"Client(...) built at module level: built at the top of {move.entry.name}() instead "
            "(aiomqtt>=2.3.1 needs a running event loop)",
        )
        for move in moves(facts)
    ]


class Fix(ModuleLevel):
    """Replace `name = Client(...)` by `name: Client` and build it at the top of the entry coroutine."""

    def __init__(self, facts: Facts) -> None:
        self.moves = {m.name: m.entry.name for m in moves(facts)}
        self.calls: dict[str, list[cst.Call]] = {}  # entry -> the calls to build there, in order
        self._names: dict[str, list[str]] = {}  # entry -> the names they bind, in the same order

    def leave_SimpleStatementLine(
        self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine:
        import libcst as cst

        if not self.moves or self.depth or len(updated.body) != 1:
            return updated
        small = updated.body[0]
        if isinstance(small, cst.Assign) and len(small.targets) == 1:
            target, annotation = small.targets[0].target, None
        elif isinstance(small, cst.AnnAssign):
            target, annotation = small.target, small.annotation
        else:
            return updated
        if not (
            isinstance(target, cst.Name) and target.value in self.moves and isinstance(small.value, cst.Call)
        ):
            return updated
        name = target.value
        entry = self.moves.pop(name)
        self.calls.setdefault(entry, []).append(small.value)
        self._names.setdefault(entry, []).append(name)
        annotation = annotation or cst.Annotation(small.value.func)
        leading = list(updated.leading_lines)
        if updated.trailing_whitespace.comment is not None:  # the line's own comment stays, above it
            leading.append(cst.EmptyLine(comment=updated.trailing_whitespace.comment))
        return updated.with_changes(
            leading_lines=leading,
            body=[cst.AnnAssign(target=cst.Name(name), annotation=annotation, value=None)],
            trailing_whitespace=cst.TrailingWhitespace(
                whitespace=cst.SimpleWhitespace("  "),
                comment=cst.Comment(NOTE.format(entry=entry)),
                newline=updated.trailing_whitespace.newline,
            ),
        )

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        import libcst as cst

        if not self.calls:
            return updated
        body = list(updated.body)
        for i, stmt in enumerate(body):
            if not (
                isinstance(stmt, cst.FunctionDef) and stmt.asynchronous and stmt.name.value in self.calls
            ):
                continue
            entry = stmt.name.value
            names = self._names[entry]
            new: list[cst.BaseStatement] = [cst.parse_statement(f"global {', '.join(names)}\n")]
            for name, call in zip(names, self.calls[entry], strict=True):
                code = cst.Module([]).code_for_node(call)  # continuation lines take the block's indent
                new.append(cst.parse_statement(f"{name} = {code}\n"))
            block = stmt.body
            assert isinstance(block, cst.IndentedBlock)
            inner = list(block.body)
            at = 1 if inner and _is_docstring(inner[0]) else 0
            body[i] = stmt.with_changes(body=block.with_changes(body=[*inner[:at], *new, *inner[at:]]))
        return updated.with_changes(body=body)


def _is_docstring(stmt: cst.BaseStatement) -> bool:
    import libcst as cst

    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and len(stmt.body) == 1
        and isinstance(stmt.body[0], cst.Expr)
        and isinstance(stmt.body[0].value, cst.SimpleString | cst.ConcatenatedString)
    )
