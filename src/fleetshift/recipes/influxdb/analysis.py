"""The analysis pass of the influxdb3 rewrite: scopes, bindings, names, attributes and calls of one module."""

from __future__ import annotations

from collections.abc import Callable

import libcst as cst

from fleetshift.recipes.influxdb.edits import code_of


class Analysis(cst.CSTVisitor):
    """Collects scopes, clients, write/query api objects and name references of one module, and each node's
    parent (what LibCST's ParentNodeProvider gives, from this walk's own stack: no second walk)."""

    def __init__(self) -> None:
        self.funcs: list[cst.FunctionDef | None] = [None]
        self.classes: list[cst.ClassDef | None] = [None]
        self.scope_of: dict[int, cst.FunctionDef | None] = {}
        self.class_of: dict[int, cst.ClassDef | None] = {}
        self.locals: dict[int, set[str]] = {0: set()}
        self.params: dict[int, set[str]] = {}
        self.names: list[cst.Name] = []
        self.self_attrs: list[cst.Attribute] = []
        self.attrs: list[cst.Attribute] = []
        self.calls: list[cst.Call] = []
        self.assigns: list[tuple[cst.CSTNode, cst.BaseExpression, cst.BaseExpression | None]] = []
        self.module_bindings: set[str] = set()
        self.parent: dict[cst.CSTNode, cst.CSTNode] = {}
        self._stack: list[cst.CSTNode] = []

    def _fid(self) -> int:
        f = self.funcs[-1]
        return id(f) if f is not None else 0

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.funcs.append(node)
        self.locals[id(node)] = set()
        params = {
            p.name.value
            for p in (*node.params.params, *node.params.posonly_params, *node.params.kwonly_params)
        }
        self.params[id(node)] = params
        self.locals[id(node)] |= params

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.funcs.pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.classes.append(node)

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        self.classes.pop()

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.scope_of[id(node)] = self.funcs[-1]
        self.class_of[id(node)] = self.classes[-1]
        if self._stack:
            self.parent[node] = self._stack[-1]
        self._stack.append(node)
        visit = _hooks(self.__class__, node.__class__)[0]  # what `CSTVisitor.on_visit` calls, less its no-ops
        return visit is None or visit(self, node) is not False

    def on_leave(self, original_node: cst.CSTNode) -> None:
        leave = _hooks(self.__class__, original_node.__class__)[1]
        if leave is not None:
            leave(self, original_node)
        self._stack.pop()

    def _bind(self, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            self.locals[self._fid()].add(target.value)
            if self.funcs[-1] is None:
                self.module_bindings.add(target.value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for el in target.elements:
                self._bind(el.value)

    def visit_Assign(self, node: cst.Assign) -> None:
        for t in node.targets:
            self._bind(t.target)
            self.assigns.append((node, t.target, node.value))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._bind(node.target)
        self.assigns.append((node, node.target, node.value))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._bind(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._bind(node.target)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind(node.asname.name)
            self.assigns.append((node, node.asname.name, node.item))

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._bind(node.target)

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            name = code_of(alias.name)
            bound = alias.asname.name.value if alias.asname else name.split(".")[0]  # type: ignore[union-attr]
            self._bind(cst.Name(bound))

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if not isinstance(node.names, cst.ImportStar):
            for alias in node.names:
                bound = alias.asname.name.value if alias.asname else code_of(alias.name)  # type: ignore[union-attr]
                self._bind(cst.Name(bound))

    def visit_Name(self, node: cst.Name) -> None:
        self.names.append(node)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.attrs.append(node)
        if isinstance(node.value, cst.Name) and node.value.value in ("self", "cls"):
            self.self_attrs.append(node)

    def visit_Call(self, node: cst.Call) -> None:
        self.calls.append(node)


_HOOKS: dict[tuple[type, type], tuple[Callable[..., object] | None, Callable[..., object] | None]] = {}


def _hooks(visitor: type, kind: type) -> tuple[Callable[..., object] | None, Callable[..., object] | None]:
    """A visitor class's `visit_<Node>` and `leave_<Node>` for a kind of node, None where it has only LibCST's (its
    visitor base class gives every kind of node methods that do nothing), looked up once per class and kind."""
    got = _HOOKS.get((visitor, kind))
    if got is None:
        visit, leave = f"visit_{kind.__name__}", f"leave_{kind.__name__}"
        got = _HOOKS[(visitor, kind)] = (
            None if getattr(visitor, visit, None) is getattr(cst.CSTVisitor, visit, None) else getattr(visitor, visit),
            None if getattr(visitor, leave, None) is getattr(cst.CSTVisitor, leave, None) else getattr(visitor, leave),
        )
    return got
