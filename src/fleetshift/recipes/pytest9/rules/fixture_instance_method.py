"""wider-scoped fixture defined as an instance method

@classmethod is inserted below the fixture decorator and self renamed to cls (deprecated in 9.1 for
class scope, 9.2 for module/package/session)
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.recipes import _pytest_config as pc
from fleetshift.recipes._ast import dotted
from fleetshift.recipes.pytest9.facts import Facts, Metadata, RuleFix, Site, const
from fleetshift.recipes.pytest9.rules import DEPRECATIONS, WIDE
from fleetshift.recipes.pytest_asyncio.gates import may_hold
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    import libcst as cst

RULE = rule(__name__, __doc__, AUTO, since="9.1", link=DEPRECATIONS, order=9)
NEEDS = (("fixture",), ("scope",), ("class",))  # a fixture method with a scope= keyword

CONVERT, MOVE = "convert", "move"  # what the fix does to a fixture method
Method = ast.FunctionDef | ast.AsyncFunctionDef


def check(facts: Facts) -> Iterator[Site]:
    """A wider-scoped fixture method the fix turns into a classmethod, or whose @classmethod it moves below the
    fixture decorator."""
    for node, scope, action, _ in fixture_methods(facts):
        if action == CONVERT:
            yield node, f"{scope}-scoped {node.name}"
        elif action == MOVE:
            yield node, f"@classmethod above the fixture decorator of {scope}-scoped {node.name}"


def fixture_methods(facts: Facts) -> list[tuple[Method, str, str, list[str]]]:
    """Each class/module/package/session-scoped fixture defined in a class (not inside a function): the method,
    its scope, what the fix does (CONVERT, MOVE or "" to leave it), and what it uses through `self` beyond
    class attributes (when that is why it is left). Found once per module, for this rule and its human twin."""
    found = facts.memo.get(__name__)
    if found is None:
        # a class, a fixture decorator (an attribute or a name an import binds) and its scope= keyword
        may = facts.names("fixture") and facts.names("scope") and may_hold(facts.text, "class")
        found = facts.memo[__name__] = list(_fixture_methods(facts)) if may else []
    return found


def _fixture_methods(facts: Facts) -> Iterator[tuple[Method, str, str, list[str]]]:
    todo: list[ast.AST] = [facts.tree]
    while todo:
        node = todo.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                yield from _methods(child, facts)
                todo.append(child)
            elif isinstance(child, ast.stmt) and not isinstance(
                child, (ast.FunctionDef, ast.AsyncFunctionDef)
            ):
                todo.append(child)


def _methods(cls: ast.ClassDef, facts: Facts) -> Iterator[tuple[Method, str, str, list[str]]]:
    safe = class_attributes(cls)
    for node in cls.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        fixture = pc.ast_fixture_call(node, facts.imports)
        scope = const(fixture, "scope") if isinstance(fixture, ast.Call) else None
        if not isinstance(scope, str) or scope not in WIDE:
            continue
        names = [dotted(d.func if isinstance(d, ast.Call) else d) for d in node.decorator_list]
        args = node.args.args
        if not args or args[0].arg != "self":
            fixture_at = next(i for i, d in enumerate(node.decorator_list) if _is_fixture(d, facts))
            cm = names.index("classmethod") if "classmethod" in names else None
            yield node, scope, MOVE if cm is not None and cm < fixture_at else "", []
        elif not {"staticmethod", "property"} & set(names):
            attrs, other = self_uses(node)
            beyond = sorted(attrs - safe) + (["self"] if other else [])
            yield node, scope, "" if beyond else CONVERT, beyond


def _is_fixture(dec: ast.expr, facts: Facts) -> bool:
    return facts.imports.qualname(dec.func if isinstance(dec, ast.Call) else dec) in pc.FIXTURE_NAMES


def self_uses(fn: Method) -> tuple[set[str], bool]:
    """Attributes read through `self` in a fixture method, and whether self is used otherwise (written
    through, passed on, or taken by a nested function)."""
    parents: dict[ast.AST, ast.AST] = {}
    for node in ast.walk(fn):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    attrs: set[str] = set()
    other = False
    for node in (n for stmt in fn.body for n in ast.walk(stmt)):
        if isinstance(node, ast.arg) and node.arg == "self":
            other = True
        elif isinstance(node, ast.Name) and node.id == "self":
            parent = parents[node]
            if isinstance(parent, ast.Attribute) and parent.value is node:
                other = other or not isinstance(parent.ctx, ast.Load)
                attrs.add(parent.attr)
            else:
                other = True
    return attrs, other


def class_attributes(cls: ast.ClassDef) -> set[str]:
    """Names in a class body that read the same through the class as through an instance."""
    safe: set[str] = set()
    for stmt in cls.body:
        if isinstance(stmt, ast.Assign):
            safe |= {t.id for t in stmt.targets if isinstance(t, ast.Name)}
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
            safe.add(stmt.target.id)
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if {dotted(d) for d in stmt.decorator_list} & {"classmethod", "staticmethod"}:
                safe.add(stmt.name)
    return safe


class Fix(RuleFix):
    """Make each fixture method `check` found a classmethod below its fixture decorator (self renamed to cls),
    or move its @classmethod below the fixture decorator."""

    METADATA_DEPENDENCIES = Metadata("PositionProvider")

    def __init__(self, facts: Facts) -> None:
        super().__init__(facts)
        self.actions = {node.lineno: action for node, _, action, _ in fixture_methods(facts) if action}
        if not self.actions:  # a line is asked only of a fixture method to act on
            self.asks_no_metadata()

    def leave_FunctionDef(self, original: cst.FunctionDef, fn: cst.FunctionDef) -> cst.FunctionDef:
        import libcst as cst

        from fleetshift.recipes._pytest_config import syntax as pcs
        from fleetshift.recipes.pytest9.syntax import Rename, line, transform_body

        action = self.actions.get(line(self, original)) if self.actions else None
        fixture = pcs.fixture_decorator(fn, self.imports) if action else None
        if fixture is None:
            return fn
        at = fixture[0]
        decs = list(fn.decorators)
        if action == MOVE:  # pytest 9.2 warns when @classmethod sits above the fixture decorator
            cm = [i for i, d in enumerate(decs) if pcs.get_full_name_for_node(d.decorator) == "classmethod"]
            decs.insert(at, decs.pop(cm[0]))
            return fn.with_changes(decorators=decs)
        decs.insert(at + 1, cst.Decorator(cst.Name("classmethod")))
        params = fn.params.params
        new_params = [params[0].with_changes(name=cst.Name("cls")), *params[1:]]
        fn = fn.with_changes(decorators=decs, params=fn.params.with_changes(params=new_params))
        return transform_body(fn, Rename("self", "cls"))
