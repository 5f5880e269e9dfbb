"""LibCST machinery for the removed `event_loop` fixture: how a function uses the loop it was given, and the
edits that turn those uses into `asyncio.get_running_loop()` or `await`."""

from __future__ import annotations

import libcst as cst


def param_names(fn: cst.FunctionDef) -> list[str]:
    """Names of a function's positional-only, ordinary and keyword-only parameters."""
    p = fn.params
    return [x.name.value for x in [*p.posonly_params, *p.params, *p.kwonly_params]]


class LoopNames(cst.CSTVisitor):
    """Every `Name(event_loop)` load in a function body, split by how it is used and whether it is nested."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.depth = 0
        self.total = 0
        self.attr_uses = 0  # `event_loop.x` at function level
        self.run_calls = 0  # `event_loop.run_until_complete(E)` at function level, one positional argument
        self.nested = 0
        self.attrs: set[str] = set()
        self.nested_attrs: set[str] = set()  # `event_loop.x` inside a nested function, lambda or comprehension
        self.run_attrs = 0  # `event_loop.run_until_complete` at function level, however it is called
        self.loop_calls = 0  # other loop helpers in the body (get_event_loop, new_event_loop, ...)

    def _enter(self, node: cst.CSTNode) -> bool:
        self.depth += 1
        return True

    def _leave(self, node: cst.CSTNode) -> None:
        self.depth -= 1

    visit_FunctionDef = visit_Lambda = visit_ClassDef = _enter  # type: ignore[assignment]
    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _enter  # type: ignore[assignment]
    leave_FunctionDef = leave_Lambda = leave_ClassDef = _leave  # type: ignore[assignment]
    leave_ListComp = leave_SetComp = leave_DictComp = leave_GeneratorExp = _leave  # type: ignore[assignment]

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == self.name:
            self.total += 1
            if self.depth:
                self.nested += 1

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if isinstance(node.value, cst.Name) and node.value.value == self.name and not self.depth:
            self.attr_uses += 1
            self.attrs.add(node.attr.value)
            self.run_attrs += node.attr.value == "run_until_complete"
        elif isinstance(node.value, cst.Name) and node.value.value == self.name:
            self.nested_attrs.add(node.attr.value)
        elif (
            isinstance(node.value, cst.Name)
            and node.value.value == "asyncio"
            and node.attr.value
            in (
                "get_event_loop",
                "new_event_loop",
                "set_event_loop",
                "get_event_loop_policy",
            )
        ):
            self.loop_calls += 1

    def visit_Call(self, node: cst.Call) -> None:
        f = node.func
        if (
            not self.depth
            and isinstance(f, cst.Attribute)
            and isinstance(f.value, cst.Name)
            and f.value.value == self.name
            and f.attr.value == "run_until_complete"
            and len(node.args) == 1
            and node.args[0].keyword is None
            and not node.args[0].star
        ):
            self.run_calls += 1


class OwnParens(cst.CSTTransformer):
    """A transformer that parenthesises each expression it makes (`wrap`), then drops those parentheses again
    where the expression stands alone: a statement's value, a for loop's iterable, or an argument."""

    def __init__(self) -> None:
        self.ours: set[int] = set()

    def wrap(self, node: cst.BaseExpression) -> cst.BaseExpression:
        wrapped = node.with_changes(lpar=[cst.LeftParen(), *node.lpar], rpar=[*node.rpar, cst.RightParen()])
        self.ours.add(id(wrapped))
        return wrapped

    def _bare(self, value: cst.BaseExpression | None) -> cst.BaseExpression | None:
        if value is not None and id(value) in self.ours:
            return value.with_changes(lpar=value.lpar[1:], rpar=value.rpar[:-1])
        return value

    def on_leave(
        self, original: cst.CSTNode, updated: cst.CSTNode
    ) -> cst.CSTNode | cst.RemovalSentinel | cst.FlattenSentinel[cst.CSTNode]:
        out = super().on_leave(original, updated)
        field = _STANDS_ALONE.get(type(out))
        if field is None:
            return out
        return out.with_changes(**{field: self._bare(getattr(out, field))})  # type: ignore[union-attr]


# where an expression stands alone, so it needs no parentheses: the field of each node that holds it
_STANDS_ALONE: dict[type[cst.CSTNode], str] = {
    cst.Expr: "value",
    cst.Assign: "value",
    cst.AnnAssign: "value",
    cst.AugAssign: "value",
    cst.Return: "value",
    cst.For: "iter",
    cst.Arg: "value",
}


class ToAwait(OwnParens):
    """`event_loop.run_until_complete(E)` -> `await E` (parenthesised unless it stands alone)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        f = updated.func
        if (
            isinstance(f, cst.Attribute)
            and isinstance(f.value, cst.Name)
            and f.value.value == self.name
            and f.attr.value == "run_until_complete"
        ):
            return self.wrap(cst.Await(expression=updated.args[0].value, lpar=updated.lpar, rpar=updated.rpar))
        return updated


class LoopAttr(cst.CSTTransformer):
    """`event_loop.x` -> `asyncio.get_running_loop().x` (function level only)."""

    def __init__(self, name: str, asyncio_name: str) -> None:
        self.name = name
        self.asyncio = asyncio_name

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.Attribute:
        if isinstance(updated.value, cst.Name) and updated.value.value == self.name:
            running = cst.Call(cst.Attribute(cst.Name(self.asyncio), cst.Name("get_running_loop")))
            return updated.with_changes(value=running)
        return updated


def insert_first(fn: cst.FunctionDef, stmt: cst.BaseStatement) -> cst.FunctionDef:
    body = fn.body
    if not isinstance(body, cst.IndentedBlock):
        body = cst.IndentedBlock(body=[cst.SimpleStatementLine(body=list(body.body))])
    stmts = list(body.body)
    at = 0
    if stmts and isinstance(stmts[0], cst.SimpleStatementLine) and isinstance(stmts[0].body[0], cst.Expr):
        if isinstance(stmts[0].body[0].value, (cst.SimpleString, cst.ConcatenatedString)):
            at = 1
    stmts.insert(at, stmt)
    return fn.with_changes(body=body.with_changes(body=stmts))


# loop methods a coroutine cannot call on its own running loop
DRIVERS = frozenset({"run_forever", "run_until_complete", "stop", "close"})


def sync_use(names: LoopNames) -> str:
    """How a sync test/fixture uses the loop it was given: "none", "run" (only `event_loop.run_until_complete(E)`),
    "other" (it also creates futures, schedules callbacks, passes the loop on, ...: convertible), or "drives" (it
    starts, stops or closes the loop, or makes or sets loops of its own: a human's call)."""
    if names.total == 0:
        return "none"
    if names.loop_calls or (names.attrs - {"run_until_complete"}) & DRIVERS or names.nested_attrs & DRIVERS:
        return "drives"
    if names.run_attrs != names.run_calls:
        return "drives"
    if names.total == names.run_calls and not names.nested:
        return "run"
    return "other"


class ExceptCurrent(OwnParens):
    """`asyncio.all_tasks(...)` -> `asyncio.all_tasks(...) - {asyncio.current_task()}`: once a sync function runs
    as a coroutine on the loop, its own task is among the loop's tasks, and cancelling it would cancel itself."""

    def __init__(self, is_all_tasks: object, asyncio_name: str) -> None:
        super().__init__()
        self.is_all_tasks = is_all_tasks  # a predicate on a Call's func
        self.asyncio = asyncio_name

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        if not self.is_all_tasks(updated.func):  # type: ignore[operator]
            return updated
        current = cst.Call(cst.Attribute(cst.Name(self.asyncio), cst.Name("current_task")))
        return self.wrap(cst.BinaryOperation(updated, cst.Subtract(), cst.Set([cst.Element(current)])))


def make_async(
    fn: cst.FunctionDef, names: LoopNames, asyncio_name: str, is_all_tasks: object
) -> cst.FunctionDef:
    """A sync test/fixture given `event_loop` as a coroutine on the running loop: `run_until_complete(E)` becomes
    `await E`, the other uses reach `asyncio.get_running_loop()`, and `asyncio.all_tasks()` leaves out its own task."""
    body = fn.body.visit(ToAwait("event_loop"))
    left = names.total - names.run_calls
    if left and left == names.attr_uses - names.run_calls and not names.nested:
        body = body.visit(LoopAttr("event_loop", asyncio_name))
    body = body.visit(ExceptCurrent(is_all_tasks, asyncio_name))
    fn = fn.with_changes(body=body, asynchronous=cst.Asynchronous(whitespace_after=cst.SimpleWhitespace(" ")))
    if left and not (left == names.attr_uses - names.run_calls and not names.nested):
        fn = insert_first(fn, cst.parse_statement(f"event_loop = {asyncio_name}.get_running_loop()\n"))
    return fn
