"""The per-file LibCST rewriter: walks one file and dispatches to the event_loop and loop-scope edits."""

from __future__ import annotations

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor
from libcst.metadata import MetadataWrapper

from fleetshift.model import Finding, Severity
from fleetshift.recipes._pytest_config import syntax as pcs
from fleetshift.recipes.base import FileKind, Recipe
from fleetshift.recipes.pytest_asyncio.event_loop import EventLoopEdits, param_names
from fleetshift.recipes.pytest_asyncio.rules import MARK
from fleetshift.recipes.pytest_asyncio.scopes import ScopeEdits, has_mark, marker_dec, pytestmark_exprs
from fleetshift.recipes.pytest_asyncio.state import ClassCtx
from fleetshift.recipes.pytest_asyncio.survey import Override, Survey, outside_fixtures


def _sync_test(node: cst.CSTNode) -> bool:
    return (
        isinstance(node, cst.FunctionDef) and node.asynchronous is None and node.name.value.startswith("test")
    )


def _no_blank_lead(stmt: cst.BaseStatement) -> cst.BaseStatement:
    """`stmt` without the blank lines above it, unless one of them holds a comment."""
    if stmt.leading_lines and all(line.comment is None for line in stmt.leading_lines):
        return stmt.with_changes(leading_lines=[])
    return stmt


class FileRewriter(ScopeEdits, EventLoopEdits):
    """Rewrites one Python file of a service, given the service survey."""

    def visit_Module(self, node: cst.Module) -> None:
        self.imports = pcs.ImportMap(node)
        for local, full in self.imports.names.items():
            if full == "asyncio":
                self.asyncio_name = local
                break
        self.module_marked = has_mark(pytestmark_exprs(node.body), self.imports, (MARK,))
        self.module_loop = self.s.shared_loop(self.path)
        self.module_sync_tests = any(
            _sync_test(stmt)
            or (
                isinstance(stmt, cst.ClassDef)
                and stmt.name.value.startswith("Test")
                and any(_sync_test(sub) for sub in stmt.body.body)
            )
            for stmt in node.body
        )

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        if self.module_loop and self.test_module and not self.module_sync_tests:
            updated = self._module_marker(updated, self.module_loop)
        if self.newly_marked:
            self._find(
                1,
                "unmarked-async-test",
                f"{len(self.newly_marked)} async test(s) had no asyncio marker in strict mode "
                f"({', '.join(self.newly_marked[:5])}{'...' if len(self.newly_marked) > 5 else ''}); pytest 8.3 "
                "skipped them, so they now run for the first time: check they pass",
                Severity.ADVICE,
            )
        return updated

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        exprs = [d.decorator for d in node.decorators] + pytestmark_exprs(node.body.body)
        self.classes.append(
            ClassCtx(
                node,
                node.name.value.startswith("Test"),
                has_mark(exprs, self.imports, (MARK,)),
                self.s.shared_loop(self.path, node.name.value),
                any(_sync_test(sub) for sub in node.body.body),
            )
        )

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        ctx = self.classes.pop()
        if ctx.loop and not ctx.has_sync_tests:
            decs = list(updated.decorators)
            for i, d in enumerate(decs):
                if marker_dec(self.imports, d):
                    decs[i] = d.with_changes(decorator=self._scoped(d.decorator, ctx.loop))
                    break
            else:
                decs.insert(0, cst.Decorator(self._mark(ctx.loop)))
            updated = updated.with_changes(decorators=decs)
        elif ctx.marked and (self.module_loop and not self.module_sync_tests):
            decs = [
                d.with_changes(decorator=self._scoped(d.decorator, self.module_loop))
                if marker_dec(self.imports, d)
                else d
                for d in updated.decorators
            ]
            updated = updated.with_changes(decorators=decs)
        body = updated.body
        if isinstance(body, cst.IndentedBlock) and body.body and len(body.body) < len(original.body.body):
            first = _no_blank_lead(body.body[0])
            if first is not body.body[0]:
                updated = updated.with_changes(body=body.with_changes(body=[first, *body.body[1:]]))
        if isinstance(updated.body, cst.IndentedBlock) and not updated.body.body:
            updated = updated.with_changes(
                body=updated.body.with_changes(body=[cst.SimpleStatementLine([cst.Pass()])])
            )
        return updated

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.funcs.append(node.asynchronous is not None)

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.funcs.append(False)

    def leave_Lambda(self, original: cst.Lambda, updated: cst.Lambda) -> cst.Lambda:
        self.funcs.pop()
        return updated

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        q = self.imports.qualname(updated.func)
        if q == MARK:
            scope = pcs.kwarg(updated, "scope")
            if scope is not None:
                if pcs.kwarg(updated, "loop_scope") is not None:
                    self._find(
                        original,
                        "marker-scope",
                        "the asyncio marker has both scope= and loop_scope= (a "
                        "UsageError); keep only loop_scope=",
                        Severity.HUMAN,
                    )
                    return updated
                args = [
                    a.with_changes(keyword=cst.Name("loop_scope")) if a is scope else a for a in updated.args
                ]
                return updated.with_changes(args=args)
        elif (
            isinstance(updated.func, cst.Attribute)
            and updated.func.attr.value == "getfixturevalue"
            and updated.args
            and pcs.string_value(updated.args[0].value) == "event_loop"
        ):
            self._find(original, "event-loop-request")
        elif q == "asyncio.get_event_loop" and not updated.args:
            if self.funcs and self.funcs[-1]:
                func = updated.func
                if isinstance(func, cst.Attribute):
                    return updated.with_changes(func=func.with_changes(attr=cst.Name("get_running_loop")))
                self.imports_needed.add("asyncio")
                return updated.with_changes(
                    func=cst.Attribute(cst.Name(self.asyncio_name), cst.Name("get_running_loop"))
                )
            self._find(original, "get-event-loop-sync")
        return updated

    def leave_FunctionDef(
        self, original: cst.FunctionDef, updated: cst.FunctionDef
    ) -> cst.FunctionDef | cst.RemovalSentinel:
        self.funcs.pop()
        if len(self.funcs) > 0:  # nested functions are never tests or fixtures
            return updated
        self.current_line = self._line(original)
        if len(self.classes) > 1:
            return updated
        cls = self.classes[-1] if self.classes else None
        fix = pcs.fixture_decorator(updated, self.imports)
        name = updated.name.value
        if fix is not None:
            fixture_name = pcs.kwarg_string(fix[2], "name") or name
            updated = pcs.without_decorator(updated, self.imports, MARK)  # PA-10: marks on fixtures
            # PA-2: event_loop overrides
            if fixture_name == "event_loop":
                ov = self.s.overrides.get((self.path, cls.node.name.value if cls else "", name))
                if ov is not None and ov.action == "delete":
                    self.deleted = True
                    return cst.RemoveFromParent()
                self._find(original, "event-loop-override-custom", self._override_message(ov))
                return updated
            # PA-3: event_loop_policy overrides
            if fixture_name == "event_loop_policy":
                if self._default_policy(updated):
                    self.deleted = True
                    return cst.RemoveFromParent()
                self._find(original, "event-loop-policy")
                return updated
        is_test = (
            self.test_module and name.startswith("test") and fix is None and (cls is None or cls.is_test)
        )
        # PA-1: event_loop requests
        if "event_loop" in param_names(updated) and (is_test or fix is not None):
            updated = self._event_loop_param(original, updated, is_test, fix is not None)
            fix = pcs.fixture_decorator(updated, self.imports)
        for d in updated.decorators:
            func, call = pcs.callee(d)
            if self.imports.qualname(func) == "pytest.mark.usefixtures" and call is not None:
                if any(pcs.string_value(a.value) == "event_loop" for a in call.args):
                    self._find(d, "event-loop-request")
        if fix is not None and (updated.asynchronous is not None or fix[1] == "pytest_asyncio.fixture"):
            updated = self._async_fixture(original, updated, cls)
        if is_test and updated.asynchronous is not None:
            updated = self._async_test(original, updated, cls)
        return updated


def rewrite_file(
    recipe: Recipe, path: str, text: str, kind: FileKind, s: Survey
) -> tuple[str, list[Finding]]:
    """Rewrite one Python file given the service survey; returns the new text and findings."""
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        return text, [
            recipe.finding(
                path, 0, "event-loop-fixture", f"not parsed ({exc}); nothing rewritten", Severity.ERROR
            )
        ]
    rw = FileRewriter(recipe, path, kind, s)
    new = MetadataWrapper(module, unsafe_skip_copy=True).visit(rw)
    findings = rw.findings
    for ov in s.overrides.values():
        if ov.path == path and ov.action == "delete" and ov.loop in ("module", "class"):
            findings.extend(_mismatch_advice(recipe, ov, text))
    if new.code == text:
        return text, findings
    cctx = CodemodContext()
    for mod in sorted(rw.imports_needed):
        if mod == "asyncio" and rw.asyncio_name != "asyncio":
            continue
        AddImportsVisitor.add_needed_import(cctx, mod)
    if rw.deleted:
        for mod in ("asyncio", "pytest"):
            if mod not in rw.imports_needed:
                RemoveImportsVisitor.remove_unused_import(cctx, mod)
    new = AddImportsVisitor(cctx).transform_module(new)
    if rw.deleted:
        new = RemoveImportsVisitor(cctx).transform_module(new)
        if new.body and not module.header and not text.startswith(("\n", "\r")):
            first = _no_blank_lead(new.body[0])
            if first is not new.body[0]:
                new = new.with_changes(body=[first, *new.body[1:]])
    return new.code, findings


def _mismatch_advice(recipe: Recipe, ov: Override, text: str) -> list[Finding]:
    outside = outside_fixtures(ov, text)
    if not outside:
        return []
    where = f"class {ov.cls}" if ov.loop == "class" else "this module"
    return [
        recipe.finding(
            ov.path,
            ov.line,
            "loop-scope-mismatch",
            f"tests in {where} now run in a {ov.loop} loop (the deleted event_loop override) but use fixtures "
            f"defined elsewhere ({', '.join(outside)}); async ones default to a function loop, so objects bound "
            f'to a loop will break: give them loop_scope="{ov.loop}" or wider',
            Severity.ADVICE,
        )
    ]
