"""The removed `event_loop` fixture: requests of it become `asyncio.get_running_loop()` or `await`,
overrides are judged, a default `event_loop_policy` override is recognised."""

from __future__ import annotations

import libcst as cst

from fleetshift.model import Severity
from fleetshift.recipes._pytest_config import syntax as pcs
from fleetshift.recipes.pytest_asyncio.state import RewriterState
from fleetshift.recipes.pytest_asyncio.survey import Override


def param_names(fn: cst.FunctionDef) -> list[str]:
    """Names of a function's positional-only, ordinary and keyword-only parameters."""
    p = fn.params
    return [x.name.value for x in [*p.posonly_params, *p.params, *p.kwonly_params]]


class _Names(cst.CSTVisitor):
    """Every `Name(event_loop)` load in a function body, split by how it is used and whether it is nested."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.depth = 0
        self.total = 0
        self.attr_uses = 0  # `event_loop.x` at function level
        self.run_calls = 0  # `event_loop.run_until_complete(E)` at function level, one positional argument
        self.nested = 0
        self.attrs: set[str] = set()
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


class _ToAwait(cst.CSTTransformer):
    """`event_loop.run_until_complete(E)` -> `await E` (parenthesised unless it is a whole statement value)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.ours: set[int] = set()

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        f = updated.func
        if (
            isinstance(f, cst.Attribute)
            and isinstance(f.value, cst.Name)
            and f.value.value == self.name
            and f.attr.value == "run_until_complete"
        ):
            node = cst.Await(
                expression=updated.args[0].value,
                lpar=[cst.LeftParen(), *updated.lpar],
                rpar=[*updated.rpar, cst.RightParen()],
            )
            self.ours.add(id(node))
            return node
        return updated

    def _bare(self, value: cst.BaseExpression | None) -> cst.BaseExpression | None:
        if isinstance(value, cst.Await) and id(value) in self.ours:
            return value.with_changes(lpar=value.lpar[1:], rpar=value.rpar[:-1])
        return value

    def leave_Expr(self, original: cst.Expr, updated: cst.Expr) -> cst.Expr:
        return updated.with_changes(value=self._bare(updated.value))

    def leave_Assign(self, original: cst.Assign, updated: cst.Assign) -> cst.Assign:
        return updated.with_changes(value=self._bare(updated.value))

    def leave_AnnAssign(self, original: cst.AnnAssign, updated: cst.AnnAssign) -> cst.AnnAssign:
        return updated.with_changes(value=self._bare(updated.value))

    def leave_AugAssign(self, original: cst.AugAssign, updated: cst.AugAssign) -> cst.AugAssign:
        return updated.with_changes(value=self._bare(updated.value))

    def leave_Return(self, original: cst.Return, updated: cst.Return) -> cst.Return:
        return updated.with_changes(value=self._bare(updated.value))


class _LoopAttr(cst.CSTTransformer):
    """`event_loop.x` -> `asyncio.get_running_loop().x` (function level only)."""

    def __init__(self, name: str, asyncio_name: str) -> None:
        self.name = name
        self.asyncio = asyncio_name

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.Attribute:
        if isinstance(updated.value, cst.Name) and updated.value.value == self.name:
            running = cst.Call(cst.Attribute(cst.Name(self.asyncio), cst.Name("get_running_loop")))
            return updated.with_changes(value=running)
        return updated


def _insert_first(fn: cst.FunctionDef, stmt: cst.BaseStatement) -> cst.FunctionDef:
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


class EventLoopEdits(RewriterState):
    """Edits for tests and fixtures that request, override or replace the `event_loop` fixture."""

    def _override_message(self, ov: Override | None) -> str:
        if ov is None:
            return self.recipe.rule("event-loop-override-custom").fix
        if not ov.plain:
            why = "its body does more than create, yield and close a default asyncio loop"
        elif ov.where == "conftest":
            why = (
                f"it is a {ov.scope}-scoped override in a conftest.py below the service root (package level)"
            )
        elif ov.where == "other":
            why = "it is defined outside conftest.py and test modules"
        else:
            why = f"its scope ({ov.scope}) at this place has no direct loop_scope equivalent"
        return (
            f"custom event_loop override is ignored by pytest-asyncio >=1.0 ({why}); port it to loop_scope "
            "(markers on every test module it served, or the asyncio_default_*_loop_scope config keys) and a "
            "custom loop to pytest_asyncio_loop_factories (>=1.4)"
        )

    def _default_policy(self, fn: cst.FunctionDef) -> bool:
        if param_names(fn) or not isinstance(fn.body, cst.IndentedBlock):
            return False
        stmts = [
            s
            for s in fn.body.body
            if not (
                isinstance(s, cst.SimpleStatementLine)
                and isinstance(s.body[0], cst.Expr)
                and isinstance(s.body[0].value, cst.SimpleString)
            )
        ]
        if len(stmts) != 1 or not isinstance(stmts[0], cst.SimpleStatementLine):
            return False
        ret = stmts[0].body[0]
        return (
            isinstance(ret, cst.Return)
            and isinstance(ret.value, cst.Call)
            and not ret.value.args
            and self.imports.qualname(ret.value.func) == "asyncio.DefaultEventLoopPolicy"
        )

    def _event_loop_param(
        self, original: cst.FunctionDef, fn: cst.FunctionDef, is_test: bool, is_fixture: bool
    ) -> cst.FunctionDef:
        what = "test" if is_test else "fixture"
        if self.s.kept_override is not None:
            ov = self.s.kept_override
            self._find(
                original,
                "event-loop-fixture",
                f"{what} {fn.name.value} requests event_loop, which resolves to the custom override at "
                f"{ov.path}:{ov.line} that is left for a human; migrate both together",
                Severity.HUMAN,
            )
            return fn
        names = _Names("event_loop")
        fn.body.visit(names)
        if fn.asynchronous is not None:
            bad = names.attrs & {"run_until_complete", "run_forever", "close", "stop"}
            if bad:
                self._find(
                    original,
                    "event-loop-fixture",
                    f"async {what} {fn.name.value} calls event_loop.{sorted(bad)[0]}(), which cannot run inside the "
                    "running loop; pytest-asyncio >=1.0 removed the event_loop fixture: rewrite it with await",
                    Severity.HUMAN,
                )
                return fn
            self.imports_needed.add("asyncio")
            fn = pcs.drop_param(fn, "event_loop")
            if names.total and names.total == names.attr_uses and not names.nested:
                return fn.with_changes(body=fn.body.visit(_LoopAttr("event_loop", self.asyncio_name)))
            if names.total:
                assign = cst.parse_statement(f"event_loop = {self.asyncio_name}.get_running_loop()\n")
                return _insert_first(fn, assign)
            return fn
        # sync test/fixture: only `event_loop.run_until_complete(E)` can be turned into `await E`
        if names.total == 0:
            return pcs.drop_param(fn, "event_loop")
        if names.total != names.run_calls or names.nested or names.loop_calls:
            self._find(
                original,
                "event-loop-fixture",
                f"pytest-asyncio >=1.0 removed the event_loop fixture; convert {what} {fn.name.value} to an async "
                f"{what} and use asyncio.get_running_loop() (see migrate_from_0_21)",
                Severity.HUMAN,
            )
            return fn
        tr = _ToAwait("event_loop")
        body = fn.body.visit(tr)
        fn = pcs.drop_param(fn, "event_loop").with_changes(
            body=body, asynchronous=cst.Asynchronous(whitespace_after=cst.SimpleWhitespace(" "))
        )
        if is_fixture and self.s.mode == "strict":
            fix = pcs.fixture_decorator(fn, self.imports)
            if fix is not None and fix[1] != "pytest_asyncio.fixture":
                fn = self._to_pa_fixture(fn, fix)
        return fn
