"""Parametrize and fixture rewrites: keyword-only parametrize options, generator argvalues, marks on
fixtures, wider-scoped instance-method fixtures, and yield tests."""

from __future__ import annotations

import libcst as cst
from libcst.metadata import ParentNodeProvider

from fleetshift.recipes._pytest_config import syntax as pcs
from fleetshift.recipes.pytest9.hooks import Rename
from fleetshift.recipes.pytest9.rules import PARAMETRIZE_KW, WIDE
from fleetshift.recipes.pytest9.state import RewriterState, visit_body


class _SelfUses(cst.CSTVisitor):
    """Attributes read through `self` in a fixture method, and whether self is used otherwise."""

    METADATA_DEPENDENCIES = (ParentNodeProvider,)

    def __init__(self) -> None:
        self.attrs: set[str] = set()
        self.other = False

    def visit_Param(self, node: cst.Param) -> None:
        if node.name.value == "self":
            self.other = True  # a nested function taking self

    def visit_Name(self, node: cst.Name) -> None:
        if node.value != "self":
            return
        parent = self.get_metadata(ParentNodeProvider, node)
        if isinstance(parent, cst.Param):
            return
        if isinstance(parent, cst.Attribute) and parent.value is node:
            grand = self.get_metadata(ParentNodeProvider, parent)
            if isinstance(grand, (cst.AssignTarget, cst.AugAssign, cst.Del)) or (
                isinstance(grand, cst.AnnAssign) and grand.target is parent
            ):
                self.other = True
            self.attrs.add(parent.attr.value)
            return
        self.other = True


def _class_safe_attrs(cls: cst.ClassDef) -> set[str]:
    """Names in a class body that read the same through the class as through an instance."""
    safe: set[str] = set()
    for stmt in cls.body.body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Assign):
                    safe |= {t.target.value for t in small.targets if isinstance(t.target, cst.Name)}
                elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) and small.value:
                    safe.add(small.target.value)
        elif isinstance(stmt, cst.FunctionDef):
            names = {pcs.get_full_name_for_node(d.decorator) for d in stmt.decorators}
            if names & {"classmethod", "staticmethod"}:
                safe.add(stmt.name.value)
    return safe


class _Yield(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found = False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_Yield(self, node: cst.Yield) -> None:
        self.found = True


def yields(fn: cst.FunctionDef) -> bool:
    """Whether `fn` itself (not a nested function or lambda) yields."""
    v = _Yield()
    fn.body.visit(v)
    return v.found


class FixtureEdits(RewriterState):
    """Edits of `parametrize` calls and of fixture definitions."""

    def _parametrize(self, original: cst.Call, call: cst.Call) -> cst.Call:
        args = list(call.args)
        if any(a.star for a in args):
            positional = [a for a in args if a.keyword is None]
            if len(positional) > 2 or any(a.star == "*" for a in args):
                self._find(
                    original,
                    "parametrize-keywords",
                    "parametrize gets *args; pass indirect/ids/scope "
                    "as keywords (keyword-only from pytest 9.2)",
                )
            return call
        positional = [i for i, a in enumerate(args) if a.keyword is None]
        if len(positional) >= 2:
            values = args[positional[1]].value
            if isinstance(values, cst.GeneratorExp):
                args[positional[1]] = args[positional[1]].with_changes(
                    value=cst.ListComp(
                        values.elt,
                        values.for_in,
                        lbracket=cst.LeftSquareBracket(),
                        rbracket=cst.RightSquareBracket(),
                    )
                )
        for n, i in enumerate(positional[2:5]):
            name = PARAMETRIZE_KW[n]
            if pcs.kwarg(call, name) is not None:
                self._find(original, "parametrize-keywords", f"parametrize gets {name} twice")
                return call
            args[i] = args[i].with_changes(keyword=cst.Name(name), equal=pcs.tight_equal())
        return call.with_changes(args=args)

    def _fixture(
        self, original: cst.FunctionDef, fn: cst.FunctionDef, fix: tuple[int, str, cst.Call | None]
    ) -> cst.FunctionDef:
        idx, _, call = fix
        kept = pcs.without_decorator(fn, self.imports, "pytest.mark.asyncio")
        for d in kept.decorators:
            q = self.imports.qualname(pcs.callee(d)[0]) or ""
            if q.startswith("pytest.mark."):
                self._find(
                    original,
                    "mark-on-fixture-human",
                    f"@{q} on fixture {fn.name.value}: marks cannot be applied to fixtures (pytest 9); "
                    + (
                        "move the dependency into the fixture's parameters"
                        if q.endswith("usefixtures")
                        else "move the mark to the tests that need it"
                    ),
                )
        if kept is not fn:
            fn = kept
            fix = pcs.fixture_decorator(fn, self.imports)
            assert fix is not None
            idx, _, call = fix
        decs = list(fn.decorators)
        if not self.classes:
            return fn
        scope = pcs.kwarg_string(call, "scope")
        if scope not in WIDE:
            return fn
        params = fn.params.params
        if not params or params[0].name.value != "self":
            cm = [i for i, d in enumerate(decs) if pcs.get_full_name_for_node(d.decorator) == "classmethod"]
            if cm and cm[0] < idx:  # pytest 9.2 warns when @classmethod sits above the fixture decorator
                moved = decs.pop(cm[0])
                decs.insert(idx, moved)
                return fn.with_changes(decorators=decs)
            return fn
        names = {pcs.get_full_name_for_node(d.decorator) for d in decs}
        if names & {"staticmethod", "property"}:
            return fn
        uses = _SelfUses()
        visit_body(fn, uses)
        safe = _class_safe_attrs(self.classes[-1])
        if uses.other or not uses.attrs <= safe:
            self._find(
                original,
                "fixture-instance-method-human",
                f"{scope}-scoped fixture {fn.name.value} is an instance method (deprecated from pytest 9.1/9.2) "
                "and uses self beyond class attributes; make it a @classmethod below the fixture decorator, "
                "or move it out of the class",
            )
            return fn
        decs.insert(idx + 1, cst.Decorator(cst.Name("classmethod")))
        new_params = [params[0].with_changes(name=cst.Name("cls")), *params[1:]]
        body = fn.body.visit(Rename("self", "cls")) if uses.attrs else fn.body
        return fn.with_changes(decorators=decs, params=fn.params.with_changes(params=new_params), body=body)
