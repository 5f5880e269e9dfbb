"""Which expressions of a module are influxdb clients (v2 or v3) or v2 `query_api()`/`write_api()` objects.

Detection flags a method such as `health()` only on a receiver known to be a client: one built here,
returned by a function annotated to return one, a parameter or attribute annotated with the client
class, or a name/attribute assigned from any of these.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Literal

from fleetshift import astparse
from fleetshift.recipes._ast import Imports
from fleetshift.recipes.influxdb.names import CLIENT_NO_EQUIVALENT, QUERY_NO_EQUIVALENT

Kind = Literal["client", "query_api", "write_api"]
CLIENT_CLASSES = frozenset({"InfluxDBClient", "InfluxDBClient3", "InfluxDBClientAsync"})
FACTORIES = frozenset({"from_env", "from_env_properties", "from_config_file"})
_Key = tuple[str, int, str]  # ("local", id(function), name) | ("module", 0, name) | ("attr", id(class), name)
_Scope = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda


def is_client_class(imports: Imports, node: ast.AST) -> bool:
    """`node` names InfluxDBClient / InfluxDBClient3 / InfluxDBClientAsync imported from an influxdb client."""
    q = imports.qualname(node)
    return bool(q and q.startswith("influxdb_client") and q.rsplit(".", 1)[1] in CLIENT_CLASSES)


# the nodes `Receivers._walk` looks at itself (each other node only holds them)
_BINDING = frozenset({ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.Assign, ast.AnnAssign,
                      ast.withitem, ast.For, ast.AsyncFor, ast.comprehension, ast.AugAssign, ast.NamedExpr, ast.Import,
                      ast.ImportFrom})


def _children(node: ast.AST) -> list[ast.AST]:
    """`list(ast.iter_child_nodes(node))`, without its two generators per node."""
    out: list[ast.AST] = []
    for name in node._fields:
        value = getattr(node, name, None)
        if isinstance(value, ast.AST):
            out.append(value)
        elif value.__class__ is list:
            out.extend([v for v in value if isinstance(v, ast.AST)])
    return out


class LaterReceivers:
    """A module's `Receivers`, worked out when the first expression is asked about (a module whose Flux strings
    are not handed to a query call never asks)."""

    def __init__(self, make: Callable[[], Receivers]) -> None:
        self.make = make

    def kind(self, expr: ast.AST) -> Kind | None:
        return self.make().kind(expr)

    def no_equivalent(self, call: ast.Call) -> str | None:
        return self.make().no_equivalent(call)


class Receivers:
    """Scope-aware, flow-insensitive map from module names and `self.` attributes to client kinds."""

    def __init__(self, tree: ast.Module, imports: Imports) -> None:
        self.imports = imports
        self.scope_of: dict[int, _Scope | None] = {}
        self.class_of: dict[int, ast.ClassDef | None] = {}
        self.bound: dict[int, set[str]] = {0: set()}  # names bound per function (0: module)
        self.returns: dict[str, Kind] = {}  # module functions annotated to return a client
        self.kinds: dict[_Key, Kind] = {}
        self._bindings: list[
            tuple[ast.AST, ast.expr | None, ast.expr | None]
        ] = []  # target, value, annotation
        self._walk(tree, None, None)
        for _ in range(4):  # names assigned from names: resolve until nothing changes
            if not self._resolve():
                break

    # ---- queries ----------------------------------------------------------------------------------

    def kind(self, expr: ast.AST) -> Kind | None:
        """The client kind of an expression, or None when it is not known to be one."""
        if isinstance(expr, ast.Call):
            f = expr.func
            if is_client_class(self.imports, f):
                return "client"
            if isinstance(f, ast.Attribute):
                if f.attr in FACTORIES and is_client_class(self.imports, f.value):
                    return "client"
                if f.attr in ("query_api", "write_api"):
                    return f.attr  # type: ignore[return-value]
            if isinstance(f, ast.Name) and f.id not in self.bound.get(self._fid(expr), set()):
                return self.returns.get(f.id)
            return None
        if isinstance(expr, ast.Await):
            return self.kind(expr.value)
        key = self.key(expr)
        return self.kinds.get(key) if key is not None else None

    def no_equivalent(self, call: ast.Call) -> str | None:
        """The method name when `call` is an API with no influxdb3-python equivalent on a known receiver.

        `*_api()` factories are distinctive enough on any receiver; `health()`, `ping()`, ... count only on
        a client, `query_csv()`, ... only on a query_api object.
        """
        f = call.func
        if not isinstance(f, ast.Attribute):
            return None
        if f.attr in CLIENT_NO_EQUIVALENT:
            if f.attr.endswith("_api") or (not call.args and self.kind(f.value) == "client"):
                return f.attr
        elif f.attr in QUERY_NO_EQUIVALENT and self.kind(f.value) == "query_api":
            return f.attr
        return None

    def key(self, expr: ast.AST) -> _Key | None:
        if isinstance(expr, ast.Name):
            fid = self._fid(expr)
            if fid and expr.id in self.bound.get(fid, set()):
                return ("local", fid, expr.id)
            return ("module", 0, expr.id)
        if (
            isinstance(expr, ast.Attribute)
            and isinstance(expr.value, ast.Name)
            and expr.value.id in ("self", "cls")
        ):
            cls = self.class_of.get(id(expr))
            return ("attr", id(cls) if cls is not None else 0, expr.attr)
        return None

    def annotation_kind(self, node: ast.AST | None) -> Kind | None:
        """`InfluxDBClient3`, `InfluxDBClient3 | None`, `Optional[InfluxDBClient3]`, or their string forms."""
        if node is None:
            return None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                node = astparse.parse(node.value, mode="eval").body
            except SyntaxError:
                return None
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            return self.annotation_kind(node.left) or self.annotation_kind(node.right)
        if isinstance(node, ast.Subscript) and (self.imports.qualname(node.value) or "").endswith("Optional"):
            return self.annotation_kind(node.slice)
        return "client" if is_client_class(self.imports, node) else None

    # ---- collection --------------------------------------------------------------------------------

    def _fid(self, node: ast.AST) -> int:
        fn = self.scope_of.get(id(node))
        return id(fn) if fn is not None else 0

    def _walk(self, node: ast.AST, fn: _Scope | None, cls: ast.ClassDef | None) -> None:
        scope_of, class_of = self.scope_of, self.class_of
        for child in _children(node):
            scope_of[id(child)] = fn
            class_of[id(child)] = cls
            if child.__class__ not in _BINDING:  # nothing bound here: only its children are looked at
                if child._fields:
                    self._walk(child, fn, cls)
                continue
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                self.bound[id(child)] = set()
                args = child.args
                for a in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
                    if a is None:
                        continue
                    self.bound[id(child)].add(a.arg)
                    self.scope_of[id(a)] = child
                    self.class_of[id(a)] = cls
                    kind = self.annotation_kind(a.annotation)
                    if kind:
                        self.kinds[("local", id(child), a.arg)] = kind
                if not isinstance(child, ast.Lambda):
                    self._bind_name(child.name, fn)
                    kind = self.annotation_kind(child.returns)
                    if kind and fn is None and cls is None:
                        self.returns[child.name] = kind
                self._walk(child, child, cls)
                continue
            if isinstance(child, ast.ClassDef):
                self._bind_name(child.name, fn)
                self._walk(child, fn, child)
                continue
            if isinstance(child, ast.Assign):
                for t in child.targets:
                    self._target(t, child.value, None, fn)
            elif isinstance(child, ast.AnnAssign):
                if cls is not None and fn is None and isinstance(child.target, ast.Name):
                    kind = self.annotation_kind(child.annotation)  # class-level `client: InfluxDBClient3`
                    if kind:
                        self.kinds[("attr", id(cls), child.target.id)] = kind
                else:
                    self._target(child.target, child.value, child.annotation, fn)
            elif isinstance(child, ast.withitem) and child.optional_vars is not None:
                self._target(child.optional_vars, child.context_expr, None, fn)
            elif isinstance(
                child, ast.For | ast.AsyncFor | ast.comprehension | ast.AugAssign | ast.NamedExpr
            ):
                self._target(child.target, None, None, fn)
            elif isinstance(child, ast.Import | ast.ImportFrom):
                for alias in child.names:
                    self._bind_name((alias.asname or alias.name).split(".")[0], fn)
            self._walk(child, fn, cls)

    def _bind_name(self, name: str, fn: _Scope | None) -> None:
        self.bound.setdefault(id(fn) if fn is not None else 0, set()).add(name)

    def _target(
        self, target: ast.AST, value: ast.expr | None, annotation: ast.expr | None, fn: _Scope | None
    ) -> None:
        if isinstance(target, ast.Tuple | ast.List):
            for el in target.elts:
                self._target(el, None, None, fn)
            return
        if isinstance(target, ast.Name):
            self._bind_name(target.id, fn)
        self._bindings.append((target, value, annotation))

    def _resolve(self) -> bool:
        changed = False
        for target, value, annotation in self._bindings:
            key = self.key(target)
            if key is None or key in self.kinds:
                continue
            kind = self.annotation_kind(annotation) or (self.kind(value) if value is not None else None)
            if kind:
                self.kinds[key] = kind
                changed = True
        return changed
