"""LibCST plumbing of the influxdb3 rewrite: argument lists, parsing helpers, the plan and its application."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import libcst as cst

from fleetshift.recipes._cst import expression


@dataclass
class Note:
    """A Finding to emit: rule slug, line, message."""

    rule: str
    line: int
    message: str


def code_of(node: cst.CSTNode) -> str:
    """The node's code (as a module with the default indentation and line break prints it); a name or a dotted
    name with no parentheses and no space around its dots is read off its nodes, with no code generated."""
    name = _dotted(node)
    return name if name is not None else cst.Module([]).code_for_node(node)


def _dotted(node: cst.CSTNode) -> str | None:
    if node.__class__ is cst.Name:
        return None if node.lpar or node.rpar else node.value  # type: ignore[attr-defined]
    if node.__class__ is cst.Attribute and not (node.lpar or node.rpar):  # type: ignore[attr-defined]
        dot = node.dot  # type: ignore[attr-defined]
        if (
            dot.__class__ is cst.Dot
            and _bare(dot.whitespace_before)
            and _bare(dot.whitespace_after)
            and node.attr.__class__ is cst.Name  # type: ignore[attr-defined]
            and not (node.attr.lpar or node.attr.rpar)  # type: ignore[attr-defined]
        ):
            head = _dotted(node.value)  # type: ignore[attr-defined]
            if head is not None:
                return f"{head}.{node.attr.value}"  # type: ignore[attr-defined]
    return None


def _bare(ws: cst.BaseParenthesizableWhitespace) -> bool:
    return ws.__class__ is cst.SimpleWhitespace and ws.value == ""  # type: ignore[attr-defined]


def keyword_arg(name: str, value: cst.BaseExpression, like: cst.Arg | None = None) -> cst.Arg:
    eq = cst.AssignEqual(
        whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")
    )
    if like is not None and like.keyword is not None and isinstance(like.equal, cst.AssignEqual):
        eq = like.equal
    arg = cst.Arg(value=value, keyword=cst.Name(name), equal=eq)
    if like is not None:
        arg = arg.with_changes(comma=like.comma, whitespace_after_arg=like.whitespace_after_arg)
    return arg


def relayout(
    original: list[cst.Arg] | tuple[cst.Arg, ...], new: list[tuple[str | None, cst.BaseExpression]]
) -> list[cst.Arg]:
    """New arguments that borrow commas and line breaks from the original ones, slot by slot."""
    out: list[cst.Arg] = []
    for i, (name, value) in enumerate(new):
        if original:
            like = original[min(i, len(original) - 1)]
            if i == len(new) - 1:
                like = like.with_changes(comma=original[-1].comma)
            elif i >= len(original) - 1 and len(original) > 1:
                like = like.with_changes(comma=original[-2].comma)
            elif i >= len(original) - 1:
                like = like.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        else:
            like = None
        if name is None:
            arg = cst.Arg(value=value)
            if like is not None:
                arg = arg.with_changes(comma=like.comma, whitespace_after_arg=like.whitespace_after_arg)
            out.append(arg)
        else:
            out.append(keyword_arg(name, value, like))
    if out and not original:
        out = [
            a.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))) for a in out[:-1]
        ] + [out[-1]]
    return out


def parse_expr(code: str) -> cst.BaseExpression:
    return expression(code)


def string_value(node: cst.BaseExpression | None) -> str | None:
    if isinstance(node, cst.SimpleString):
        v = node.evaluated_value
        return v if isinstance(v, str) else None
    return None


def named_args(args: Sequence[cst.Arg], positional: Sequence[str]) -> list[tuple[str, cst.Arg]] | None:
    """Each argument with its parameter name (positional ones by `positional`); None for `*`/`**` arguments
    or more positional arguments than `positional` names."""
    out: list[tuple[str, cst.Arg]] = []
    for i, a in enumerate(args):
        if a.star:
            return None
        if a.keyword is None:
            if i >= len(positional):
                return None
            out.append((positional[i], a))
        else:
            out.append((a.keyword.value, a))
    return out


@dataclass
class Plan:
    """The edit plan of one module, built by the rules' `plan` functions in stage order.

    `replace`: node replacements keyed by id() of the original node; `notes`: the Findings. What one rule
    leaves for a later one: `buckets` (the bucket expressions the writes and queries use, for `database=`),
    `client_options` (write_api options that move to a client constructor, by id() of the constructor),
    `locked` (constructors no rule may rewrite), `need_timezone` (a reader uses `timezone.utc`).
    """

    replace: dict[int, Callable[[cst.CSTNode], cst.CSTNode | cst.RemovalSentinel | cst.FlattenSentinel]] = (
        field(default_factory=dict)
    )
    notes: list[Note] = field(default_factory=list)
    buckets: list[tuple[cst.CSTNode, str]] = field(default_factory=list)
    client_options: dict[int, list[tuple[object, cst.Call]]] = field(default_factory=dict)
    locked: set[int] = field(default_factory=set)
    need_timezone: bool = False


class Printer:
    """Prints modules keeping each top-level statement's tokens by the statement (its identity): printing a module
    that shares statements with one printed before (what `import.finish` walks leaves of the plan's module: every
    statement holding no import) copies their tokens instead of generating them again. A top-level statement's
    code depends only on the module's indentation and line break, kept with it."""

    def __init__(self) -> None:
        self.known: dict[int, tuple[cst.CSTNode, str, str, list[str]]] = {}

    def code(self, module: cst.Module) -> str:
        """`module.code`, from the statements' tokens where they are known."""
        from libcst._nodes.internal import CodegenState

        indent, newline = module.default_indent, module.default_newline
        state = CodegenState(default_indent=indent, default_newline=newline)
        tokens = state.tokens
        known = self.known
        for h in module.header:
            h._codegen(state)
        for stmt in module.body:
            got = known.get(id(stmt))
            if got is not None and got[0] is stmt and got[1] == indent and got[2] == newline:
                tokens.extend(got[3])
            else:
                start = len(tokens)
                stmt._codegen(state)
                known[id(stmt)] = (stmt, indent, newline, tokens[start:])
        for f in module.footer:
            f._codegen(state)
        if module.has_trailing_newline:  # what Module._codegen_impl does after the footer
            if not tokens:
                state.add_token(state.default_newline)
        else:
            state.pop_trailing_newline()
        return "".join(tokens)


class LazyMetadata:
    """A metadata mapping whose values may be computed lazily; given a function, the mapping itself is computed
    on the first lookup (a module whose rules never ask costs no walk)."""

    def __init__(self, data: Mapping[cst.CSTNode, object] | Callable[[], Mapping[cst.CSTNode, object]]) -> None:
        self._data = data

    @property
    def data(self) -> Mapping[cst.CSTNode, object]:
        if callable(self._data):
            self._data = self._data()
        return self._data

    def __getitem__(self, node: cst.CSTNode):
        v = self.data[node]
        return v() if callable(v) else v

    def get(self, node: cst.CSTNode, default: object = None):
        try:
            return self[node]
        except KeyError:
            return default


class ApplyPlan(cst.CSTTransformer):
    """Applies a Plan: replacement functions keyed by id() of original nodes.

    Given the module's parents (child -> parent), the walk enters only the nodes on the way to a planned one: a
    subtree with no planned node is left as it is (the same result, without visiting it)."""

    def __init__(self, plan: Plan, parents: Mapping[cst.CSTNode, cst.CSTNode] | None = None) -> None:
        super().__init__()
        self.plan = plan
        self.enter: set[int] | None = None
        if parents is not None:
            up = {id(child): parent for child, parent in parents.items()}
            enter: set[int] = set()
            for key in plan.replace:
                while key not in enter:
                    enter.add(key)
                    parent = up.get(key)
                    if parent is None:
                        break
                    key = id(parent)
            self.enter = enter

    def on_visit(self, node: cst.CSTNode) -> bool:
        return self.enter is None or id(node) in self.enter

    # A plan edits nodes, never a node's fields: no per-field visit is looked up (LibCST's default formats a method
    # name and looks it up for every field of every node walked, and finds none here).
    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        return None

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        return None

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode):
        updated = super().on_leave(original_node, updated_node)
        fn = self.plan.replace.get(id(original_node))
        if fn is not None and isinstance(updated, cst.CSTNode):
            return fn(updated)
        return updated

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        if not updated_node.body:
            return updated_node.with_changes(body=[cst.SimpleStatementLine([cst.Pass()])])
        return updated_node
