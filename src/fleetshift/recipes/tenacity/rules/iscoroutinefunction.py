"""`tenacity.iscoroutinefunction` is gone from tenacity 8.4 on (AttributeError / ImportError)

read `inspect.iscoroutinefunction`: tenacity 8.2.3 and 8.3.0 re-exported that very function (`from inspect
import iscoroutinefunction`), so the rewrite changes nothing but where the name comes from
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.model import Action
from fleetshift.recipes.rule import AUTO, rule
from fleetshift.recipes.tenacity.resolve import Facts
from fleetshift.recipes.tenacity.rewrite import SiteFix
from fleetshift.recipes.tenacity.rules import CHANGELOG

if TYPE_CHECKING:
    import libcst as cst

RULE = rule(__name__, __doc__, AUTO, since="8.4.0", link=CHANGELOG, order=19)

NAME = "iscoroutinefunction"
QUAL = f"tenacity.{NAME}"


def sites(facts: Facts) -> Iterator[tuple[ast.AST, str, bool]]:
    """Every use of `tenacity.iscoroutinefunction`: its `from tenacity import` and the attributes read through
    the module, each with whether the rewrite can move it to `inspect` (not when the name `inspect` stands for
    something else here, nor for an assignment to it or a patch of it)."""
    if not facts.tenacity:
        return  # no tenacity name without tenacity written
    inspect_free = facts.imports.names.get("inspect", "inspect") == "inspect" and all(
        kind == "import" for kind, _ in facts.bindings.get("inspect", ())
    )
    for node in facts.nodes(ast.ImportFrom):
        assert isinstance(node, ast.ImportFrom)
        if node.module == "tenacity" and not node.level and any(a.name == NAME for a in node.names):
            yield node, f"`from tenacity import {NAME}` -> `from inspect import {NAME}`", True
    for node in facts.nodes(ast.Attribute):
        assert isinstance(node, ast.Attribute)
        if node.attr == NAME and facts.imports.qualname(node) == QUAL:
            ok = isinstance(node.ctx, ast.Load) and inspect_free
            yield node, f"`{ast.unparse(node)}` -> `inspect.{NAME}`", ok
    for node in facts.nodes(ast.Constant):
        assert isinstance(node, ast.Constant)
        if node.value == QUAL:  # mock.patch("tenacity.iscoroutinefunction"): tenacity no longer reads it
            yield node, f'"{QUAL}" names nothing on tenacity>=8.4; patch what the code under test calls', False


def check(facts: Facts) -> Iterator[tuple[ast.AST, str, Action]]:
    for node, detail, ok in sites(facts):
        yield node, detail, AUTO if ok else Action.HUMAN


class Fix(SiteFix):
    """The import moves to `inspect`; `tenacity.iscoroutinefunction` becomes `inspect.iscoroutinefunction`."""

    def __init__(self, facts: Facts) -> None:
        super().__init__(facts, {facts.key(n): True for n, _, ok in sites(facts) if ok})
        self.moved: list[str | None] = []  # aliases of names moved to `from inspect import`
        self.needs_module = False

    def leave_ImportFrom(self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom) -> cst.ImportFrom:
        import libcst as cst

        if not self.site(original_node) or isinstance(updated_node.names, cst.ImportStar):
            return updated_node
        names = list(updated_node.names)
        keep = [a for a in names if a.evaluated_name != NAME]
        self.moved += [a.evaluated_alias for a in names if a.evaluated_name == NAME]
        if not keep:
            self.moved.clear()  # the whole import moves, in place
            return updated_node.with_changes(module=cst.Name("inspect"))
        keep[-1] = keep[-1].with_changes(comma=names[-1].comma)
        return updated_node.with_changes(names=keep)

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        import libcst as cst

        if not self.site(original_node):
            return updated_node
        self.needs_module = True
        return updated_node.with_changes(value=cst.Name("inspect"))

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        if not (self.moved or self.needs_module):
            return updated_node
        from libcst.codemod import CodemodContext
        from libcst.codemod.visitors import AddImportsVisitor

        context = CodemodContext()
        if self.needs_module:
            AddImportsVisitor.add_needed_import(context, "inspect")
        for alias in self.moved:
            AddImportsVisitor.add_needed_import(context, "inspect", NAME, alias)
        return AddImportsVisitor(context).transform_module(updated_node)
