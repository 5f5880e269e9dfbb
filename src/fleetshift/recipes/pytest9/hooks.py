"""Hook-argument rewrites: py.path hook arguments renamed to their pathlib twins (with their attributes
mapped), and `Node.from_parent(fspath=...)` turned into `path=`."""

from __future__ import annotations

import libcst as cst
from libcst.metadata import ParentNodeProvider

from fleetshift.recipes._pytest_config import syntax as pcs
from fleetshift.recipes.pytest9.rules import HOOK_ARGS, PATH_ATTRS, PATH_METHODS, PATH_SAFE_CALLS
from fleetshift.recipes.pytest9.state import RewriterState, visit_body


class _Uses(cst.CSTVisitor):
    """Classifies every use of a py.path hook argument inside a hook body."""

    METADATA_DEPENDENCIES = (ParentNodeProvider,)

    def __init__(self, name: str, imports: pcs.ImportMap) -> None:
        self.name = name
        self.imports = imports
        self.bad: list[str] = []

    def visit_Param(self, node: cst.Param) -> None:
        if node.name.value == self.name:
            self.bad.append("rebound in a nested scope")

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        if isinstance(node.target, cst.Name) and node.target.value == self.name:
            self.bad.append("reassigned")

    def visit_Name(self, node: cst.Name) -> None:
        if node.value != self.name:
            return
        parent = self.get_metadata(ParentNodeProvider, node)
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
            grand = self.get_metadata(ParentNodeProvider, parent)
            if (
                attr in PATH_METHODS
                and isinstance(grand, cst.Call)
                and grand.func is parent
                and not grand.args
            ):
                return
            if attr == "dirpath" and isinstance(grand, cst.Call) and grand.func is parent and not grand.args:
                return
            self.bad.append(f".{attr}")
            return
        if isinstance(parent, cst.Arg):
            call = self.get_metadata(ParentNodeProvider, parent)
            if isinstance(call, cst.Call):
                q = self.imports.qualname(call.func) or pcs.get_full_name_for_node(call.func) or ""
                if q in PATH_SAFE_CALLS or q.startswith("os.path.") or q.endswith(".from_parent"):
                    return
        if isinstance(parent, cst.FormattedStringExpression):
            return
        self.bad.append("used as a value")


def bad_uses(fn: cst.FunctionDef, name: str, imports: pcs.ImportMap) -> list[str]:
    """The uses of parameter `name` in `fn`'s body that pathlib does not support ([] when all do)."""
    uses = _Uses(name, imports)
    visit_body(fn, uses)
    return uses.bad


class Rename(cst.CSTTransformer):
    """Renames a hook argument and maps its py.path attributes to pathlib."""

    def __init__(self, old: str, new: str) -> None:
        self.old, self.new = old, new

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        f = updated.func
        if isinstance(f, cst.Attribute) and isinstance(f.value, cst.Name) and f.value.value == self.new:
            attr = f.attr.value
            if attr == "dirpath" and not updated.args:
                return cst.Attribute(cst.Name(self.new), cst.Name("parent"))
            if attr in PATH_METHODS and not updated.args:
                return updated.with_changes(func=f.with_changes(attr=cst.Name(PATH_METHODS[attr])))
        return updated

    def leave_Arg(self, original: cst.Arg, updated: cst.Arg) -> cst.Arg:
        return updated.with_changes(keyword=original.keyword) if original.keyword is not None else updated

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.BaseExpression:
        updated = updated.with_changes(attr=original.attr)
        if isinstance(updated.value, cst.Name) and updated.value.value == self.new:
            attr = updated.attr.value
            if attr in PATH_ATTRS:
                return updated.with_changes(attr=cst.Name(PATH_ATTRS[attr]))
            if attr == "dirname":
                return cst.Call(
                    cst.Name("str"), [cst.Arg(cst.Attribute(cst.Name(self.new), cst.Name("parent")))]
                )
            if attr == "strpath":
                return cst.Call(cst.Name("str"), [cst.Arg(cst.Name(self.new))])
        return updated

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.Name:
        return updated.with_changes(value=self.new) if updated.value == self.old else updated


class HookEdits(RewriterState):
    """Edits of pytest hooks that take py.path arguments, and of `from_parent(fspath=...)` calls."""

    def _enter_hook(self, node: cst.FunctionDef) -> None:
        """Remember a hook argument that will be renamed, so `from_parent(fspath=<it>)` needs no wrapping."""
        old, _ = HOOK_ARGS[node.name.value]
        if old in [p.name.value for p in node.params.params] and not bad_uses(node, old, self.imports):
            self.hook_params.add(old)

    def _hook(self, original: cst.FunctionDef, fn: cst.FunctionDef) -> cst.FunctionDef:
        old, new = HOOK_ARGS[fn.name.value]
        params = list(fn.params.params)
        names = [p.name.value for p in params]
        if old not in names:
            return fn
        bad = bad_uses(fn, old, self.imports)
        if bad:
            self._find(
                original,
                "hook-path-args-human",
                f"{fn.name.value}({old}): pytest 9.1 removes the py.path argument `{old}`; use `{new}` "
                f"(pathlib.Path) — not rewritten because of {', '.join(sorted(set(bad)))}",
            )
            return fn
        if new in names:
            fn = pcs.drop_param(fn, old)
        else:
            params = [p.with_changes(name=cst.Name(new)) if p.name.value == old else p for p in params]
            fn = fn.with_changes(params=fn.params.with_changes(params=params))
        return fn.with_changes(body=fn.body.visit(Rename(old, new)))

    def _from_parent(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        """`fspath=x` becomes `path=pathlib.Path(x)` (`path=x` for a renamed hook argument)."""
        if pcs.kwarg(updated, "path") is not None:
            self._find(
                original, "from-parent-fspath", "from_parent gets both fspath= and path=; keep only path="
            )
            return updated
        args = []
        for a in updated.args:
            if a.keyword is not None and a.keyword.value == "fspath":
                value = a.value
                if not (isinstance(value, cst.Name) and value.value in self.hook_params):
                    self.need_pathlib = True
                    value = cst.Call(cst.Attribute(cst.Name("pathlib"), cst.Name("Path")), [cst.Arg(value)])
                a = a.with_changes(keyword=cst.Name("path"), value=value)
            args.append(a)
        return updated.with_changes(args=args)
