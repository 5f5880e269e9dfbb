"""The per-file LibCST rewriter: walks one file and dispatches to the hook, parametrize and fixture edits;
renames `yield_fixture`, reports removed APIs, and drops `PytestRemovedIn9Warning` filter marks."""

from __future__ import annotations

from typing import TypeVar

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor
from libcst.metadata import MetadataWrapper, ParentNodeProvider

from fleetshift.model import Finding, Severity
from fleetshift.recipes._pytest_config import syntax as pcs
from fleetshift.recipes.base import Recipe
from fleetshift.recipes.pytest9.fixtures import FixtureEdits, yields
from fleetshift.recipes.pytest9.hooks import HookEdits
from fleetshift.recipes.pytest9.rules import HOOK_ARGS


class FileRewriter(HookEdits, FixtureEdits):
    """Rewrites one Python file for pytest 9."""

    # -- imports: `from pytest import yield_fixture` --

    def leave_ImportFrom(self, original: cst.ImportFrom, updated: cst.ImportFrom) -> cst.ImportFrom:
        module = pcs.get_full_name_for_node(updated.module) if updated.module else None
        if module != "pytest":
            return updated
        if isinstance(updated.names, cst.ImportStar):
            return updated
        names = list(updated.names)
        has_fixture = any(
            a.name.value == "fixture" and a.asname is None for a in names if isinstance(a.name, cst.Name)
        )
        out = []
        for a in names:
            if isinstance(a.name, cst.Name) and a.name.value == "yield_fixture":
                if a.asname is None and has_fixture:
                    continue
                a = a.with_changes(name=cst.Name("fixture"))
            out.append(a)
        if out and out != names:
            out[-1] = out[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            return updated.with_changes(names=out)
        return updated

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.Name:
        if (
            updated.value == "yield_fixture"
            and self.imports.names.get("yield_fixture") == "pytest.yield_fixture"
        ):
            parent = self.get_metadata(ParentNodeProvider, original, None)
            if not isinstance(parent, (cst.ImportAlias, cst.Attribute)):
                return updated.with_changes(value="fixture")
        return updated

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.BaseExpression:
        q = self.imports.qualname(original)
        if q == "pytest.yield_fixture":
            return updated.with_changes(attr=cst.Name("fixture"))
        if q == "pytest.PytestRemovedIn9Warning":
            parent = self.get_metadata(ParentNodeProvider, original, None)
            if not isinstance(parent, cst.Attribute):
                self._find(original, "removed-in-9-warning-code")
        if q == "pytest.console_main":
            self._find(original, "deprecated-9-1")
        if updated.attr.value == "inicfg" and isinstance(updated.value, (cst.Name, cst.Attribute)):
            target = pcs.get_full_name_for_node(updated.value) or ""
            if target.split(".")[-1] in ("config", "pytestconfig", "_config"):
                self._find(original, "deprecated-9-1")
        return updated

    # -- calls --

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        q = self.imports.qualname(updated.func) or ""
        func_name = pcs.get_full_name_for_node(updated.func) or ""
        if q == "pytest.mark.parametrize" or (
            func_name.endswith(".parametrize") and func_name.split(".")[0] == "metafunc"
        ):
            return self._parametrize(original, updated)
        if q == "pytest.importorskip" and pcs.kwarg(updated, "exc_type") is None:
            self._find(original, "importorskip-exc-type")
        if func_name.endswith(".from_parent") and pcs.kwarg(updated, "fspath") is not None:
            return self._from_parent(original, updated)
        return updated

    # -- functions --

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.depth += 1
        if self.depth == 1 and node.name.value in HOOK_ARGS:
            self._enter_hook(node)

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        self.depth -= 1
        if self.depth:
            return updated
        name = updated.name.value
        if name in HOOK_ARGS:
            updated = self._hook(original, updated)
            self.hook_params.clear()
        fix = pcs.fixture_decorator(updated, self.imports)
        if fix is not None:
            return self._fixture(original, updated, fix)
        in_test_class = not self.classes or self.classes[-1].name.value.startswith("Test")
        if self.test_module and name.startswith("test") and in_test_class and yields(updated):
            self._find(original, "yield-test")
        return updated


def rewrite_file(recipe: Recipe, path: str, text: str) -> tuple[str, list[Finding]]:
    """Rewrite one Python file; returns the new text and findings."""
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        return text, [
            recipe.finding(
                path, 0, "hook-path-args", f"not parsed ({exc}); nothing rewritten", Severity.ERROR
            )
        ]
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    rw = FileRewriter(recipe, path, wrapper)
    new = wrapper.visit(rw)
    new = _drop_removed_in_9_marks(new, rw.imports)
    reported = {f.line for f in rw.findings if f.rule == "pytest/removed-in-9-warning-code"}
    for n, line in enumerate(new.code.splitlines(), 1):
        if "PytestRemovedIn9Warning" in line and n not in reported and not line.lstrip().startswith("#"):
            rw.findings.append(recipe.finding(path, n, "removed-in-9-warning-code"))
    if rw.need_pathlib:
        cctx = CodemodContext()
        AddImportsVisitor.add_needed_import(cctx, "pathlib")
        new = AddImportsVisitor(cctx).transform_module(new)
    return new.code, rw.findings


# ---- PytestRemovedIn9Warning filter marks ---------------------------------------------------------


def _removed_in_9(expr: cst.BaseExpression, imports: pcs.ImportMap) -> bool:
    """`pytest.mark.filterwarnings("...PytestRemovedIn9Warning...")` with that single filter."""
    func, call = pcs.callee(expr)
    if imports.qualname(func) != "pytest.mark.filterwarnings" or call is None or len(call.args) != 1:
        return False
    value = pcs.string_value(call.args[0].value)
    return value is not None and "PytestRemovedIn9Warning" in value


_Decorated = TypeVar("_Decorated", cst.FunctionDef, cst.ClassDef)


class _DropMarks(cst.CSTTransformer):
    def __init__(self, imports: pcs.ImportMap) -> None:
        self.imports = imports

    def _undecorated(self, updated: _Decorated) -> _Decorated:
        """`updated` without its PytestRemovedIn9Warning filter marks."""
        decs = [d for d in updated.decorators if not _removed_in_9(d.decorator, self.imports)]
        return updated.with_changes(decorators=decs) if len(decs) != len(updated.decorators) else updated

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        return self._undecorated(updated)

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        return self._undecorated(updated)

    def leave_Assign(self, original: cst.Assign, updated: cst.Assign) -> cst.Assign | cst.RemovalSentinel:
        if not pcs.is_pytestmark(updated):
            return updated
        v = updated.value
        if isinstance(v, (cst.List, cst.Tuple)):
            elems = [e for e in v.elements if not _removed_in_9(e.value, self.imports)]
            if len(elems) == len(v.elements):
                return updated
            if elems and not isinstance(v.elements[-1].comma, cst.Comma):
                elems[-1] = elems[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            return updated.with_changes(value=v.with_changes(elements=elems))
        if _removed_in_9(v, self.imports):
            return cst.RemoveFromParent()
        return updated


def _drop_removed_in_9_marks(module: cst.Module, imports: pcs.ImportMap) -> cst.Module:
    if "PytestRemovedIn9Warning" not in module.code:
        return module
    return module.visit(_DropMarks(imports))
