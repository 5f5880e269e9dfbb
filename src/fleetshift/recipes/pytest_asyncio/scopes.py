"""Loop scopes and strict mode: asyncio markers (module, class, test) and async fixture decorators."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import libcst as cst

from fleetshift.model import Severity
from fleetshift.recipes._pytest_config import syntax as pcs
from fleetshift.recipes.pytest_asyncio.rules import MARK, OTHER_MARKS, RANK, WIDE
from fleetshift.recipes.pytest_asyncio.state import ClassCtx, RewriterState


def marker_dec(imports: pcs.ImportMap, dec: cst.Decorator) -> bool:
    """Whether a decorator is the asyncio marker (bare or called)."""
    func, _ = pcs.callee(dec)
    return imports.qualname(func) == MARK


def has_mark(exprs: Iterable[cst.BaseExpression], imports: pcs.ImportMap, names: Sequence[str]) -> bool:
    """Whether any marker expression is one of `names` (or an attribute below one)."""
    for e in exprs:
        func, _ = pcs.callee(e)
        q = imports.qualname(func)
        if q and any(q == n or q.startswith(n + ".") for n in names):
            return True
    return False


def pytestmark_exprs(body: Sequence[cst.CSTNode]) -> list[cst.BaseExpression]:
    """The marker expressions assigned to `pytestmark` in a module or class body."""
    out: list[cst.BaseExpression] = []
    for stmt in body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if pcs.is_pytestmark(small):
                v = small.value
                if isinstance(v, (cst.List, cst.Tuple)):
                    out.extend(e.value for e in v.elements)
                else:
                    out.append(v)
    return out


class ScopeEdits(RewriterState):
    """Edits that give tests and fixtures their loop scope and make strict mode see them."""

    def _module_marker(self, module: cst.Module, loop: str) -> cst.Module:
        body = list(module.body)
        for i, stmt in enumerate(body):
            if not isinstance(stmt, cst.SimpleStatementLine):
                continue
            for j, small in enumerate(stmt.body):
                if not (
                    isinstance(small, cst.Assign)
                    and isinstance(small.targets[0].target, cst.Name)
                    and small.targets[0].target.value == "pytestmark"
                ):
                    continue
                value = small.value
                if isinstance(value, (cst.List, cst.Tuple)):
                    elems = list(value.elements)
                    for k, el in enumerate(elems):
                        if has_mark([el.value], self.imports, (MARK,)):
                            elems[k] = el.with_changes(value=self._scoped(el.value, loop))
                            break
                    else:
                        last = elems[-1] if elems else None
                        new = cst.Element(self._mark(loop))
                        if last is not None and not isinstance(last.comma, cst.Comma):
                            elems[-1] = last.with_changes(
                                comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
                            )
                        elems.append(new)
                    value = value.with_changes(elements=elems)
                elif has_mark([value], self.imports, (MARK,)):
                    value = self._scoped(value, loop)
                else:
                    value = cst.List(
                        [
                            cst.Element(value, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
                            cst.Element(self._mark(loop)),
                        ]
                    )
                new_stmt = stmt.with_changes(
                    body=[*stmt.body[:j], small.with_changes(value=value), *stmt.body[j + 1 :]]
                )
                body[i] = new_stmt
                return module.with_changes(body=body)
        # no pytestmark yet: add one after the imports
        at = 0
        for i, stmt in enumerate(body):
            if isinstance(stmt, cst.SimpleStatementLine) and all(
                isinstance(s, (cst.Import, cst.ImportFrom)) for s in stmt.body
            ):
                at = i + 1
            elif i == 0 and isinstance(stmt, cst.SimpleStatementLine) and isinstance(stmt.body[0], cst.Expr):
                at = 1
        line = cst.SimpleStatementLine(
            [cst.Assign([cst.AssignTarget(cst.Name("pytestmark"))], self._mark(loop))],
            leading_lines=[cst.EmptyLine()] if at else [],
        )
        body.insert(at, line)
        if at < len(body) - 1 and not body[at + 1].leading_lines:
            body[at + 1] = body[at + 1].with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()])
        return module.with_changes(body=body)

    def _scoped(self, expr: cst.BaseExpression, loop: str) -> cst.BaseExpression:
        """An asyncio marker expression with loop_scope=loop (bare markers become calls)."""
        func, call = pcs.callee(expr)
        if call is None:
            return pcs.with_kwarg(cst.Call(func), "loop_scope", pcs.string_like(None, loop))
        have = pcs.kwarg(call, "loop_scope")
        if have is not None:
            if pcs.string_value(have.value) != loop:
                self._find(
                    call,
                    "event-loop-override",
                    f"this asyncio marker sets loop_scope but the deleted event_loop override shared a {loop} "
                    f"loop; check which loop this test needs",
                    Severity.HUMAN,
                )
            return expr
        return pcs.with_kwarg(call, "loop_scope", pcs.string_like(None, loop))

    def _strict_fixture(
        self, original: cst.FunctionDef, fn: cst.FunctionDef, fix: tuple[int, str, cst.Call | None]
    ) -> tuple[cst.FunctionDef, tuple[int, str, cst.Call | None]] | None:
        """`fn` under @pytest_asyncio.fixture with its new decorator; None (and a Finding) under anyio/trio."""
        if self.s.other_plugin:
            self._find(original, "strict-async-fixture-other-plugin")
            return None
        fn = self._to_pa_fixture(fn, fix)
        new = pcs.fixture_decorator(fn, self.imports)
        assert new is not None
        return fn, new

    def _async_fixture(
        self, original: cst.FunctionDef, fn: cst.FunctionDef, cls: ClassCtx | None
    ) -> cst.FunctionDef:
        fix = pcs.fixture_decorator(fn, self.imports)
        if fix is None:
            return fn
        idx, qual, call = fix
        # PA-8: strict mode
        if qual != "pytest_asyncio.fixture" and fn.asynchronous is not None and self.s.mode == "strict":
            converted = self._strict_fixture(original, fn, fix)
            if converted is None:
                return fn
            fn, fix = converted
            idx, qual, call = fix
        # PA-5: loop_scope for wider-scoped fixtures
        if pcs.kwarg(call, "loop_scope") is not None:
            return fn
        container = (cls.loop if cls else None) or self.module_loop
        scope_arg = pcs.kwarg(call, "scope")
        if scope_arg is None:
            scope = "function"
        else:
            scope = pcs.string_value(scope_arg.value)
            if scope is None or scope not in RANK:
                self._find(original, "fixture-loop-scope-dynamic")
                return fn
        loop = None
        if container and RANK[container] >= RANK[scope]:
            loop = container
        elif scope in WIDE:
            loop = scope
            if self.s.root_loop and RANK[self.s.root_loop] >= RANK[scope]:
                loop = self.s.root_loop
        if loop is None:
            return fn
        if qual != "pytest_asyncio.fixture":
            converted = self._strict_fixture(original, fn, fix)
            if converted is None:
                return fn
            fn, (idx, qual, call) = converted
        decs = list(fn.decorators)
        base = call if call is not None else cst.Call(decs[idx].decorator)
        quote = scope_arg.value if scope_arg is not None else None
        decs[idx] = decs[idx].with_changes(
            decorator=pcs.with_kwarg(base, "loop_scope", pcs.string_like(quote, loop))
        )
        return fn.with_changes(decorators=decs)

    def _async_test(
        self, original: cst.FunctionDef, fn: cst.FunctionDef, cls: ClassCtx | None
    ) -> cst.FunctionDef:
        decs = list(fn.decorators)
        exprs = [d.decorator for d in decs]
        if has_mark(exprs, self.imports, OTHER_MARKS):
            return fn
        container = cls.loop if cls and cls.loop else self.module_loop
        container_has_sync = cls.has_sync_tests if cls and cls.loop else self.module_sync_tests
        own = [i for i, d in enumerate(decs) if marker_dec(self.imports, d)]
        if container:
            if own:
                decs[own[0]] = decs[own[0]].with_changes(
                    decorator=self._scoped(decs[own[0]].decorator, container)
                )
                return fn.with_changes(decorators=decs)
            if container_has_sync:
                decs.insert(0, cst.Decorator(self._mark(container)))
                return fn.with_changes(decorators=decs)
            return fn  # the module pytestmark / class marker carries the loop scope
        if own or self.s.mode != "strict":
            return fn
        if self.module_marked or any(c.marked for c in self.classes):
            return fn
        if self.s.hook_marks:
            return fn
        if self.s.other_plugin:
            self._find(
                original,
                "unmarked-async-test",
                "async test without an asyncio marker in a service that "
                "also uses anyio/trio: add @pytest.mark.asyncio if pytest-asyncio should run it",
                Severity.HUMAN,
            )
            return fn
        if original.asynchronous is not None:  # not one just converted from a sync test
            self.newly_marked.append(fn.name.value)
        decs.insert(0, cst.Decorator(self._mark()))
        return fn.with_changes(decorators=decs)
