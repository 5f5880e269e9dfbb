"""py.path hook arguments (path, startdir)

renamed to collection_path/file_path/module_path/start_path (pathlib.Path); .basename->.name,
.ext->.suffix, .purebasename->.stem, .dirname->str(p.parent), .strpath->str(p)
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.recipes._ast import Imports, dotted
from fleetshift.recipes.pytest9.facts import Facts, Metadata, OuterFunctionFix, Site, outer_functions
from fleetshift.recipes.pytest9.rules import HOOK_ARGS, PATH_ATTRS, PATH_METHODS, PATH_SAFE_CALLS, PY_PATH
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    import libcst as cst

RULE = rule(__name__, __doc__, AUTO, since="9.1", link=PY_PATH, order=0)
NEEDS = ((*HOOK_ARGS,),)  # the hook's name

Hook = tuple[ast.FunctionDef | ast.AsyncFunctionDef, str, list[str]]


def check(facts: Facts) -> Iterator[Site]:
    """A hook that declares its py.path argument and uses it only in ways pathlib has a twin for."""
    for node, old, bad in hooks(facts):
        if not bad:
            yield node, f"{node.name}({old})"


def hooks(facts: Facts) -> list[Hook]:
    """Each hook (a function not nested in another) that declares its py.path argument: the hook, the
    argument, and the uses of it pathlib does not support ([] when the fix renames it). Found once per module,
    for this rule, its human twin and from-parent-fspath."""
    found = facts.memo.get(__name__)
    if found is None:
        found = facts.memo[__name__] = list(_hooks(facts)) if facts.names(*HOOK_ARGS) else []
    return found


def _hooks(facts: Facts) -> Iterator[Hook]:
    for node in outer_functions(facts.tree):
        if node.name in HOOK_ARGS and (old := HOOK_ARGS[node.name][0]) in {a.arg for a in node.args.args}:
            yield node, old, bad_uses(node, old, facts.imports)


def renamed(facts: Facts) -> dict[int, str]:
    """Line of each hook whose py.path argument the fix renames -> that argument."""
    return {node.lineno: old for node, old, bad in hooks(facts) if not bad}


def bad_uses(fn: ast.FunctionDef | ast.AsyncFunctionDef, name: str, imports: Imports) -> list[str]:
    """The uses of parameter `name` in `fn`'s body that pathlib does not support ([] when all do)."""
    parents: dict[ast.AST, ast.AST] = {}
    for node in ast.walk(fn):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    bad = []
    for node in (n for stmt in fn.body for n in ast.walk(stmt)):
        if isinstance(node, ast.arg) and node.arg == name:
            bad.append("rebound in a nested scope")
        elif isinstance(node, ast.Name) and node.id == name:
            if isinstance(node.ctx, ast.Store):
                bad.append("reassigned")
            elif (why := _use(node, parents, imports)) is not None:
                bad.append(why)
    return bad


def _use(node: ast.Name, parents: dict[ast.AST, ast.AST], imports: Imports) -> str | None:
    """Why reading the argument here has no pathlib twin, or None when it has one."""
    parent = parents[node]
    if isinstance(parent, ast.Attribute):
        attr = parent.attr
        if attr in PATH_ATTRS or attr in ("dirname", "strpath"):
            return None
        grand = parents.get(parent)
        called = (
            isinstance(grand, ast.Call) and grand.func is parent and not grand.args and not grand.keywords
        )
        return None if called and (attr in PATH_METHODS or attr == "dirpath") else f".{attr}"
    call = parents.get(parent) if isinstance(parent, ast.keyword) else parent
    if isinstance(call, ast.Call) and call.func is not node:
        q = imports.qualname(call.func) or dotted(call.func) or ""
        if q in PATH_SAFE_CALLS or q.startswith("os.path.") or q.endswith(".from_parent"):
            return None
    if isinstance(parent, ast.FormattedValue):
        return None
    return "used as a value"


class Fix(OuterFunctionFix):
    """Rename the py.path argument of each hook `check` found and map its attributes to pathlib."""

    METADATA_DEPENDENCIES = Metadata("PositionProvider")

    def __init__(self, facts: Facts) -> None:
        super().__init__(facts)
        self.renamed = renamed(facts)
        if not self.renamed:  # a line is asked only of a hook with an argument to rename
            self.asks_no_metadata()

    def rewrite_outer(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        import libcst as cst

        from fleetshift.recipes._pytest_config import syntax as pcs
        from fleetshift.recipes.pytest9.syntax import Rename, line, transform_body

        if not self.renamed or (old := self.renamed.get(line(self, original))) is None:
            return updated
        new = HOOK_ARGS[updated.name.value][1]
        fn = updated
        if new in [p.name.value for p in fn.params.params]:
            fn = pcs.drop_param(fn, old)
        else:
            params = [
                p.with_changes(name=cst.Name(new)) if p.name.value == old else p for p in fn.params.params
            ]
            fn = fn.with_changes(params=fn.params.with_changes(params=params))
        return transform_body(fn, Rename(old, new), PathAttributes(new))


class PathAttributes:
    """Maps the py.path attributes and methods of the renamed argument `name` to pathlib."""

    def __init__(self, name: str) -> None:
        self.name = name

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        import libcst as cst

        f = updated.func
        if isinstance(f, cst.Attribute) and isinstance(f.value, cst.Name) and f.value.value == self.name:
            attr = f.attr.value
            if attr == "dirpath" and not updated.args:
                return cst.Attribute(cst.Name(self.name), cst.Name("parent"))
            if attr in PATH_METHODS and not updated.args:
                return updated.with_changes(func=f.with_changes(attr=cst.Name(PATH_METHODS[attr])))
        return updated

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.BaseExpression:
        import libcst as cst

        if isinstance(updated.value, cst.Name) and updated.value.value == self.name:
            attr = updated.attr.value
            if attr in PATH_ATTRS:
                return updated.with_changes(attr=cst.Name(PATH_ATTRS[attr]))
            if attr == "dirname":
                return cst.Call(
                    cst.Name("str"), [cst.Arg(cst.Attribute(cst.Name(self.name), cst.Name("parent")))]
                )
            if attr == "strpath":
                return cst.Call(cst.Name("str"), [cst.Arg(cst.Name(self.name))])
        return updated
