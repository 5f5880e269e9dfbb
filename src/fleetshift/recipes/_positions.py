"""Where LibCST's PositionProvider puts a module's nodes, worked out one statement at a time (`StatementPositions`):
a rule asking the line of a call pays for the code generation of its statement, not of the whole module."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import libcst as cst
from libcst._nodes.internal import CodegenState
from libcst.metadata import CodePosition, CodeRange

Span = tuple[int, int, int, int]  # start line, start column, end line, end column: a CodeRange's numbers

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
        # id() of each node worked out -> the spans of its statement's nodes by id(), and the lines to add to them
        self.known: dict[int, tuple[dict[int, Span], int]] = {}
        self._starts: dict[int, int] | None = None
        self._one_line: set[int] = set()  # id() of the paired statements whose `_HEAD` is on their first line
        self._whole: Mapping[cst.CSTNode, CodeRange] | None = None

    def starts(self) -> dict[int, int]:
        """id() of each LibCST statement of a body -> the line `ast` starts it on ({} when they do not pair up)."""
        if self._starts is None:
            out: dict[int, int] = {}
            one_line: set[int] = set()
            try:
                paired = _pair(self.module.body, self.tree.body, out, one_line)
            except (AttributeError, TypeError, ValueError):  # a shape this pairing does not know
                paired = False
            self._starts = out if paired else {}
            self._one_line = one_line if paired else set()
        return self._starts

    def line(self, node: cst.CSTNode) -> int:
        """`self[node].start.line`; for an expression, argument or small statement in a simple statement line, or
        in a header's expressions, that `ast` places on one line, that line with no code generated."""
        got = self.known.get(id(node))
        if got is not None:
            return got[0][id(node)][0] + got[1]
        if isinstance(node, cst.BaseExpression | cst.Arg | cst.BaseSmallStatement):
            starts = self.starts()
            child, stmt = node, self.parent.get(node)
            while stmt is not None and id(stmt) not in starts:
                child, stmt = stmt, self.parent.get(stmt)
            if stmt is not None and id(stmt) in self._one_line:
                for name in _HEAD.get(type(stmt), ()):
                    value = getattr(stmt, name)
                    if value is child or (isinstance(value, Sequence) and any(v is child for v in value)):
                        return starts[id(stmt)]
        return self[node].start.line

    def whole(self) -> Mapping[cst.CSTNode, CodeRange]:
        """The provider's positions over the whole module, node by node."""
        if self._whole is None:
            state = Spans(self.module.default_indent, self.module.default_newline)
            state.nodes = []
            self.module._codegen(state)
            spans = state.spans
            self._whole = {n: _range(spans[id(n)], 0) for n in state.nodes}
        return self._whole

    def __getitem__(self, node: cst.CSTNode) -> CodeRange:
        got = self.known.get(id(node))
        if got is not None:
            return _range(got[0][id(node)], got[1])
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
        state = Spans(self.module.default_indent, self.module.default_newline, indents[::-1])
        stmt._codegen(state)
        spans = state.spans
        shift = starts[id(stmt)] - spans[id(stmt)][0]
        self.known.update(dict.fromkeys(spans, (spans, shift)))
        return _range(spans[id(node)], shift)

    def span(self, node: cst.CSTNode) -> Span:
        """The numbers of `self[node]` (start line, start column, end line, end column), without a CodeRange built."""
        got = self.known.get(id(node))
        if got is None:
            r = self[node]
            got = self.known.get(id(node))
            if got is None:  # answered by the provider over the whole module
                return (r.start.line, r.start.column, r.end.line, r.end.column)
        spans, shift = got
        s = spans[id(node)]
        return (s[0] + shift, s[1], s[2] + shift, s[3]) if shift else s

    def __iter__(self):
        return iter(self.whole())

    def __len__(self) -> int:
        return len(self.whole())


def _range(span: Span, shift: int) -> CodeRange:
    return CodeRange(CodePosition(span[0] + shift, span[1]), CodePosition(span[2] + shift, span[3]))


_NEWLINE = re.compile(r"\r\n?|\n")


class Spans(CodegenState):
    """LibCST's code generation recording what its PositionProvider records (the same numbers: the provider's own
    state's rules), as plain tuples keyed by id() of the node: no CodePosition or CodeRange built per node, no
    node hashed (a LibCST node's hash is a Python method), no regular expression run on a token holding no line
    break. `spans` maps id() of each node generated to its Span."""

    def __init__(self, default_indent: str, default_newline: str, indent_tokens: list[str] | None = None) -> None:
        super().__init__(default_indent, default_newline, None, indent_tokens or [], [])
        self.line = 1  # one-indexed
        self.column = 0  # zero-indexed
        self.stack: list[tuple[int, int]] = []
        self.spans: dict[int, Span] = {}
        self.nodes: list[cst.CSTNode] | None = None  # given a list: every node generated, in order

    def _moved(self, value: str) -> None:
        if "\n" in value or "\r" in value:
            segments = _NEWLINE.split(value)
            self.line += len(segments) - 1
            self.column = len(segments[-1])
        else:
            self.column += len(value)

    def add_indent_tokens(self) -> None:
        self.tokens.extend(self.indent_tokens)
        for token in self.indent_tokens:
            self._moved(token)

    def add_token(self, value: str) -> None:
        self.tokens.append(value)
        self._moved(value)

    def before_codegen(self, node: cst.CSTNode) -> None:
        self.stack.append((self.line, self.column))
        if self.nodes is not None:
            self.nodes.append(node)

    def after_codegen(self, node: cst.CSTNode) -> None:
        line, column = self.stack.pop()
        if id(node) not in self.spans:  # a syntactic position recorded already stays
            self.spans[id(node)] = (line, column, self.line, self.column)

    @contextmanager
    def record_syntactic_position(
        self, node: cst.CSTNode, *, start_node: cst.CSTNode | None = None, end_node: cst.CSTNode | None = None
    ) -> Iterator[None]:
        line, column = self.line, self.column
        try:
            yield
        finally:
            end_line, end_column = self.line, self.column
            if start_node is not None:
                line, column = self.spans[id(start_node)][:2]
            if end_node is not None:
                end_line, end_column = self.spans[id(end_node)][2:]
            self.spans[id(node)] = (line, column, end_line, end_column)


def _pair(
    stmts: Sequence[cst.BaseStatement], body: Sequence[ast.stmt], out: dict[int, int], one_line: set[int] | None = None
) -> bool:
    """Pair a body's LibCST statements with its `ast` statements (`a; b` is one of the first, two of the
    second), recording each LibCST statement's `ast` line, and the bodies inside them; False when they differ.
    Given `one_line`, it records there id() of each statement whose `_HEAD` fields `ast` places on its first line."""
    j = 0
    for stmt in stmts:
        want = _COMPOUND.get(type(stmt))
        if j >= len(body) or (not isinstance(body[j], want) if want else isinstance(body[j], _SIMPLE)):
            return False
        out[id(stmt)] = body[j].lineno
        if want and not all(_pair(c, a, out, one_line) for c, a in _bodies(stmt, body[j])):
            return False
        if one_line is not None and _on_its_line(stmt, body, j):
            one_line.add(id(stmt))
        j += 1 if want else len(stmt.body)  # type: ignore[attr-defined]
    return j == len(body)


def _on_its_line(stmt: cst.BaseStatement, body: Sequence[ast.stmt], j: int) -> bool:
    """Whether every token `ast` places in the statement's `_HEAD` fields (a simple statement line's statements, a
    compound statement's header expressions) is on the line the statement starts on."""
    node = body[j]
    if isinstance(stmt, cst.SimpleStatementLine):
        return body[j + len(stmt.body) - 1].end_lineno == node.lineno
    if isinstance(node, ast.With | ast.AsyncWith):
        parts: list[ast.AST | None] = [p for i in node.items for p in (i.context_expr, i.optional_vars)]
    elif isinstance(node, ast.If | ast.While):
        parts = [node.test]
    elif isinstance(node, ast.For | ast.AsyncFor):
        parts = [node.target, node.iter]
    else:
        return False
    return all(p is None or (p.lineno == node.lineno and p.end_lineno == node.lineno) for p in parts)


# the fields of a statement whose nodes `StatementPositions.line` places on the statement's own line when `ast`
# places all their tokens there (an expression starts at one of its tokens, or at a parenthesis before one)
_HEAD: Mapping[type, tuple[str, ...]] = {
    cst.SimpleStatementLine: ("body",),
    cst.With: ("items",),
    cst.If: ("test",),
    cst.While: ("test",),
    cst.For: ("target", "iter"),
}


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
