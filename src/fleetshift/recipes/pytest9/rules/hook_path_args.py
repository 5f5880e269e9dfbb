"""py.path hook arguments (path, startdir)

renamed to collection_path/file_path/module_path/start_path (pathlib.Path); .basename->.name,
.ext->.suffix, .purebasename->.stem, .dirname->str(p.parent), .strpath->str(p)
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.recipes.pytest9.facts import Facts, Metadata, Site
from fleetshift.recipes.pytest9.rules import HOOK_ARGS, PATH_ATTRS, PATH_METHODS, PATH_SAFE_CALLS, PY_PATH
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    import libcst as cst

    from fleetshift.recipes._pytest_config.syntax import ImportMap

RULE = rule(__name__, __doc__, AUTO, since="9.1", link=PY_PATH, order=0)


def check(facts: Facts) -> Iterator[Site]:
    """A hook that declares its py.path argument."""
    for node in facts.of(ast.FunctionDef, ast.AsyncFunctionDef):
        if node.name in HOOK_ARGS and HOOK_ARGS[node.name][0] in {a.arg for a in node.args.args}:
            yield node, f"{node.name}({HOOK_ARGS[node.name][0]})"


class Fix:
    """Rename the py.path argument of a top-level hook and map its attributes, when every use has a pathlib
    twin; otherwise report hook-path-args-human."""

    METADATA_DEPENDENCIES = Metadata("PositionProvider")

    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        self.findings: list[tuple[int, str, str]] = []
        self.depth = 0

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.depth += 1

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        from fleetshift.recipes._pytest_config import syntax as pcs
        from fleetshift.recipes.pytest9.syntax import Rename, line, transform_body

        self.depth -= 1
        if self.depth or updated.name.value not in HOOK_ARGS:
            return updated
        old, new = HOOK_ARGS[updated.name.value]
        names = [p.name.value for p in updated.params.params]
        if old not in names:
            return updated
        assert self.facts.code_imports is not None
        bad = bad_uses(updated, old, self.facts.code_imports)
        if bad:
            self.findings.append(
                (
                    line(self, original),
                    "hook-path-args-human",
                    f"{updated.name.value}({old}): pytest 9.1 removes the py.path argument `{old}`; use `{new}` "
                    f"(pathlib.Path) — not rewritten because of {', '.join(sorted(set(bad)))}",
                )
            )
            return updated
        fn = updated
        if new in names:
            fn = pcs.drop_param(fn, old)
        else:
            import libcst as cst

            params = [
                p.with_changes(name=cst.Name(new)) if p.name.value == old else p for p in fn.params.params
            ]
            fn = fn.with_changes(params=fn.params.with_changes(params=params))
        return transform_body(fn, Rename(old, new), PathAttributes(new))


def renamed_argument(fn: cst.FunctionDef, imports: ImportMap) -> str | None:
    """The py.path argument of hook `fn` that the fix renames, or None."""
    if fn.name.value not in HOOK_ARGS:
        return None
    old, _ = HOOK_ARGS[fn.name.value]
    names = [p.name.value for p in fn.params.params]
    return old if old in names and not bad_uses(fn, old, imports) else None


def bad_uses(fn: cst.FunctionDef, name: str, imports: ImportMap) -> list[str]:
    """The uses of parameter `name` in `fn`'s body that pathlib does not support ([] when all do)."""
    from fleetshift.recipes.pytest9.syntax import visit_body

    uses = Uses(name, imports)
    visit_body(fn, uses)
    return uses.bad


class Uses:
    """Classifies every use of a py.path hook argument inside a hook body."""

    METADATA_DEPENDENCIES = Metadata("ParentNodeProvider")

    def __init__(self, name: str, imports: ImportMap) -> None:
        self.name = name
        self.imports = imports
        self.bad: list[str] = []

    def parent(self, node: cst.CSTNode) -> cst.CSTNode:
        from libcst.metadata import ParentNodeProvider

        return self.get_metadata(ParentNodeProvider, node)  # type: ignore[attr-defined]

    def visit_Param(self, node: cst.Param) -> None:
        if node.name.value == self.name:
            self.bad.append("rebound in a nested scope")

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        import libcst as cst

        if isinstance(node.target, cst.Name) and node.target.value == self.name:
            self.bad.append("reassigned")

    def visit_Name(self, node: cst.Name) -> None:
        import libcst as cst

        from fleetshift.recipes._pytest_config import syntax as pcs

        if node.value != self.name:
            return
        parent = self.parent(node)
        if (isinstance(parent, cst.Param) and parent.name is node) or (
            isinstance(parent, cst.Arg) and parent.keyword is node
        ):
            return  # a parameter name or a keyword name
        if isinstance(parent, cst.Attribute) and parent.attr is node:
            return
        if isinstance(parent, cst.Attribute) and parent.value is node:
            attr = parent.attr.value
            if attr in PATH_ATTRS or attr in ("dirname", "strpath"):
                return
            grand = self.parent(parent)
            called = isinstance(grand, cst.Call) and grand.func is parent and not grand.args
            if called and (attr in PATH_METHODS or attr == "dirpath"):
                return
            self.bad.append(f".{attr}")
            return
        if isinstance(parent, cst.Arg):
            call = self.parent(parent)
            if isinstance(call, cst.Call):
                q = self.imports.qualname(call.func) or pcs.get_full_name_for_node(call.func) or ""
                if q in PATH_SAFE_CALLS or q.startswith("os.path.") or q.endswith(".from_parent"):
                    return
        if isinstance(parent, cst.FormattedStringExpression):
            return
        self.bad.append("used as a value")


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
