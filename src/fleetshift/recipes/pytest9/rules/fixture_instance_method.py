"""wider-scoped fixture defined as an instance method

@classmethod is inserted below the fixture decorator and self renamed to cls (deprecated in 9.1 for
class scope, 9.2 for module/package/session)
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.recipes import _pytest_config as pc
from fleetshift.recipes.pytest9.facts import Facts, Metadata, Site, const
from fleetshift.recipes.pytest9.rules import DEPRECATIONS, WIDE
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    import libcst as cst

RULE = rule(__name__, __doc__, AUTO, since="9.1", link=DEPRECATIONS, order=9)


def check(facts: Facts) -> Iterator[Site]:
    """A class/module/package/session-scoped fixture whose first parameter is `self`."""
    for node in facts.of(ast.FunctionDef, ast.AsyncFunctionDef):
        fixture = pc.ast_fixture_call(node, facts.imports)
        scope = const(fixture, "scope") if isinstance(fixture, ast.Call) else None
        args = node.args.args
        if scope in WIDE and args and args[0].arg == "self":
            yield node, f"{scope}-scoped {node.name}"


class Fix:
    """In a class, make a wider-scoped instance-method fixture a classmethod below its fixture decorator when
    it reads only class attributes through `self` (else report fixture-instance-method-human), and move a
    @classmethod written above the fixture decorator below it."""

    METADATA_DEPENDENCIES = Metadata("PositionProvider")

    def __init__(self, facts: Facts) -> None:
        assert facts.code_imports is not None
        self.imports = facts.code_imports
        self.findings: list[tuple[int, str, str]] = []
        self.classes: list[cst.ClassDef] = []
        self.depth = 0

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.classes.append(node)

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        self.classes.pop()
        return updated

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.depth += 1

    def leave_FunctionDef(self, original: cst.FunctionDef, fn: cst.FunctionDef) -> cst.FunctionDef:
        import libcst as cst

        from fleetshift.recipes._pytest_config import syntax as pcs
        from fleetshift.recipes.pytest9.syntax import Rename, line, transform_body, visit_body

        self.depth -= 1
        fix = pcs.fixture_decorator(fn, self.imports)
        if self.depth or fix is None or not self.classes:
            return fn
        idx, _, call = fix
        scope = pcs.kwarg_string(call, "scope")
        if scope not in WIDE:
            return fn
        decs = list(fn.decorators)
        params = fn.params.params
        if not params or params[0].name.value != "self":
            cm = [i for i, d in enumerate(decs) if pcs.get_full_name_for_node(d.decorator) == "classmethod"]
            if cm and cm[0] < idx:  # pytest 9.2 warns when @classmethod sits above the fixture decorator
                decs.insert(idx, decs.pop(cm[0]))
                return fn.with_changes(decorators=decs)
            return fn
        if {pcs.get_full_name_for_node(d.decorator) for d in decs} & {"staticmethod", "property"}:
            return fn
        uses = SelfUses()
        visit_body(fn, uses)
        if uses.other or not uses.attrs <= class_attributes(self.classes[-1]):
            self.findings.append(
                (
                    line(self, original),
                    "fixture-instance-method-human",
                    f"{scope}-scoped fixture {fn.name.value} is an instance method (deprecated from pytest 9.1/9.2) "
                    "and uses self beyond class attributes; make it a @classmethod below the fixture decorator, "
                    "or move it out of the class",
                )
            )
            return fn
        decs.insert(idx + 1, cst.Decorator(cst.Name("classmethod")))
        new_params = [params[0].with_changes(name=cst.Name("cls")), *params[1:]]
        fn = fn.with_changes(decorators=decs, params=fn.params.with_changes(params=new_params))
        return transform_body(fn, Rename("self", "cls")) if uses.attrs else fn


class SelfUses:
    """Attributes read through `self` in a fixture method, and whether self is used otherwise."""

    METADATA_DEPENDENCIES = Metadata("ParentNodeProvider")

    def __init__(self) -> None:
        self.attrs: set[str] = set()
        self.other = False

    def parent(self, node: cst.CSTNode) -> cst.CSTNode:
        from libcst.metadata import ParentNodeProvider

        return self.get_metadata(ParentNodeProvider, node)  # type: ignore[attr-defined]

    def visit_Param(self, node: cst.Param) -> None:
        if node.name.value == "self":
            self.other = True  # a nested function taking self

    def visit_Name(self, node: cst.Name) -> None:
        import libcst as cst

        if node.value != "self":
            return
        parent = self.parent(node)
        if isinstance(parent, cst.Param):
            return
        if isinstance(parent, cst.Attribute) and parent.value is node:
            grand = self.parent(parent)
            if isinstance(grand, (cst.AssignTarget, cst.AugAssign, cst.Del)) or (
                isinstance(grand, cst.AnnAssign) and grand.target is parent
            ):
                self.other = True
            self.attrs.add(parent.attr.value)
            return
        self.other = True


def class_attributes(cls: cst.ClassDef) -> set[str]:
    """Names in a class body that read the same through the class as through an instance."""
    import libcst as cst

    from fleetshift.recipes._pytest_config import syntax as pcs

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
