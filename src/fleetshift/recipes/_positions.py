"""Where LibCST's PositionProvider puts a module's nodes, worked out one statement at a time (`StatementPositions`):
a rule asking the line of a call pays for the code generation of its statement, not of the whole module."""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping, Sequence

import libcst as cst
from libcst.metadata import CodePosition, CodeRange, MetadataWrapper, PositionProvider
from libcst.metadata.position_provider import PositionProvidingCodegenState

_COMPOUND: Mapping[type, tuple[type, ...]] = {
    cst.FunctionDef: (ast.FunctionDef, ast.AsyncFunctionDef),
    cst.ClassDef: (ast.ClassDef,),
    cst.If: (ast.If,),
    cst.For: (ast.For, ast.AsyncFor),
    cst.While: (ast.While,),
    cst.Try: (ast.Try,),
    cst.TryStar: (ast.TryStar,),
    cst.With: (ast.With, ast.AsyncWith),
    cst.Match: (ast.Match,),
}
_SIMPLE = tuple({t for ts in _COMPOUND.values() for t in ts})


class StatementPositions(Mapping[cst.CSTNode, CodeRange]):
    """What LibCST's PositionProvider gives for a module, worked out one statement at a time: the provider's own
    code generation run on the innermost statement (of a module's or a block's body) holding the node, from the
    indentation of the blocks around it, its lines moved to where `ast` starts that statement. A rule asking the
    line of a call pays for its statement, not for the module. A node outside every statement (the module, its
    header), or a module whose `ast` and LibCST statements do not pair up, is answered by the provider over the
    whole module."""

    def __init__(self, module: cst.Module, tree: ast.Module, parent: Mapping[cst.CSTNode, cst.CSTNode]) -> None:
        self.module, self.tree, self.parent = module, tree, parent
        self.known: dict[cst.CSTNode, tuple[Mapping[cst.CSTNode, CodeRange], int]] = {}  # computed, lines to add
        self._starts: dict[int, int] | None = None
        self._whole: Mapping[cst.CSTNode, CodeRange] | None = None

    def starts(self) -> dict[int, int]:
        """id() of each LibCST statement of a body -> the line `ast` starts it on ({} when they do not pair up)."""
        if self._starts is None:
            out: dict[int, int] = {}
            try:
                paired = _pair(self.module.body, self.tree.body, out)
            except (AttributeError, TypeError, ValueError):  # a shape this pairing does not know
                paired = False
            self._starts = out if paired else {}
        return self._starts

    def whole(self) -> Mapping[cst.CSTNode, CodeRange]:
        if self._whole is None:
            self._whole = MetadataWrapper(self.module, unsafe_skip_copy=True).resolve(PositionProvider)
        return self._whole

    def __getitem__(self, node: cst.CSTNode) -> CodeRange:
        got = self.known.get(node)
        if got is not None:
            return _moved(*got, node)
        starts = self.starts()
        stmt: cst.CSTNode | None = node
        while stmt is not None and id(stmt) not in starts:
            stmt = self.parent.get(stmt)
        if stmt is None:
            return self.whole()[node]
        indents: list[str] = []
        up = self.parent.get(stmt)
        while up is not None:
            if isinstance(up, cst.IndentedBlock | cst.Match):
                indents.append(self.module.default_indent if up.indent is None else up.indent)
            up = self.parent.get(up)
        provider = PositionProvider()
        state = PositionProvidingCodegenState(
            default_indent=self.module.default_indent,
            default_newline=self.module.default_newline,
            provider=provider,
            indent_tokens=indents[::-1],
        )
        stmt._codegen(state)
        computed = provider._computed
        shift = starts[id(stmt)] - computed[stmt].start.line
        self.known.update(dict.fromkeys(computed, (computed, shift)))
        return _moved(computed, shift, node)

    def __iter__(self):
        return iter(self.whole())

    def __len__(self) -> int:
        return len(self.whole())


def _moved(computed: Mapping[cst.CSTNode, CodeRange], shift: int, node: cst.CSTNode) -> CodeRange:
    r = computed[node]
    return CodeRange(CodePosition(r.start.line + shift, r.start.column), CodePosition(r.end.line + shift, r.end.column))


def _pair(stmts: Sequence[cst.BaseStatement], body: Sequence[ast.stmt], out: dict[int, int]) -> bool:
    """Pair a body's LibCST statements with its `ast` statements (`a; b` is one of the first, two of the
    second), recording each LibCST statement's `ast` line, and the bodies inside them; False when they differ."""
    j = 0
    for stmt in stmts:
        want = _COMPOUND.get(type(stmt))
        if j >= len(body) or (not isinstance(body[j], want) if want else isinstance(body[j], _SIMPLE)):
            return False
        out[id(stmt)] = body[j].lineno
        if want and not all(_pair(c, a, out) for c, a in _bodies(stmt, body[j])):
            return False
        j += 1 if want else len(stmt.body)  # type: ignore[attr-defined]
    return j == len(body)


def _bodies(stmt: cst.BaseStatement, node: ast.stmt) -> Iterator[tuple[Sequence, Sequence]]:
    """The (LibCST, ast) statement lists of a compound statement's indented blocks (a one-line suite holds small
    statements only: nothing to pair)."""

    def block(suite: cst.BaseSuite, stmts: Sequence[ast.stmt]) -> Iterator[tuple[Sequence, Sequence]]:
        if isinstance(suite, cst.IndentedBlock):
            yield suite.body, stmts

    if isinstance(stmt, cst.Match):
        cases = node.cases  # type: ignore[attr-defined]
        if len(stmt.cases) != len(cases):
            yield (stmt,), ()
            return
        for c, a in zip(stmt.cases, cases, strict=True):
            yield from block(c.body, a.body)
        return
    yield from block(stmt.body, node.body)  # type: ignore[attr-defined]
    if isinstance(stmt, cst.For | cst.While) and stmt.orelse is not None:
        yield from block(stmt.orelse.body, node.orelse)  # type: ignore[attr-defined]
    elif isinstance(stmt, cst.If) and stmt.orelse is not None:
        if isinstance(stmt.orelse, cst.If):  # elif: an If of its own, not a statement of a body
            inner = node.orelse[0] if len(node.orelse) == 1 else None  # type: ignore[attr-defined]
            if isinstance(inner, ast.If):
                yield from _bodies(stmt.orelse, inner)
            else:
                yield (stmt.orelse,), ()  # does not pair: the module falls back to the whole provider
        else:
            yield from block(stmt.orelse.body, node.orelse)  # type: ignore[attr-defined]
    elif isinstance(stmt, cst.Try | cst.TryStar):
        handlers = node.handlers  # type: ignore[attr-defined]
        if len(stmt.handlers) != len(handlers):
            yield (stmt,), ()
            return
        for h, a in zip(stmt.handlers, handlers, strict=True):
            yield from block(h.body, a.body)
        if stmt.orelse is not None:
            yield from block(stmt.orelse.body, node.orelse)  # type: ignore[attr-defined]
        if stmt.finalbody is not None:
            yield from block(stmt.finalbody.body, node.finalbody)  # type: ignore[attr-defined]
