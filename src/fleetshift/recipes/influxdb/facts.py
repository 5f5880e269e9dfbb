"""What the rules' checks read about one module, gathered once on the standard `ast`: its imports, which
expressions are clients, what each `ApiException` guards, and which client generation it imports.

Every rule module's `check(node, facts)` is offered each node of the module and yields one detail per
site (an empty string for the rule's summary). Nothing here imports LibCST.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, TypeGuard, TypeVar

from fleetshift.recipes._ast import Imports, parse_tree, walk
from fleetshift.recipes.influxdb.receivers import LaterReceivers, Receivers

if TYPE_CHECKING:
    from fleetshift.recipes.influxdb.flux.sites import ModuleFlux

T = TypeVar("T")

QUERY_METHODS = frozenset(
    {
        "query_api",
        "query",
        "query_stream",
        "query_data_frame",
        "query_data_frame_stream",
        "query_csv",
        "query_raw",
    }
)
WRITE_METHODS = frozenset({"write_api", "write", "flush"})
V2_ENV_PREFIX = "INFLUXDB_V2_"
CONNECTION_ERRORS = frozenset(  # what services catch around influxdb-client queries when the server is away
    {"ConnectionError", "ConnectionRefusedError", "TimeoutError", "socket.timeout", "OSError", "IOError"}
)


@dataclass(frozen=True)
class Facts:
    """One module as the checks read it. `v2`: it imports influxdb_client (its old-API sites are reported);
    `v3`: it imports influxdb_client_3 (the traps of migrated code are reported)."""

    text: str
    tree: ast.Module
    imports: Imports
    guards: Mapping[int, str]  # lines of `ApiException` references that may guard a query, with the reason
    v2: bool
    v3: bool

    @property
    def nodes(self) -> tuple[ast.AST, ...]:
        """Every node of the module, in `ast.walk` order."""
        return module_nodes(self.tree)

    def v2_call(self, node: ast.AST, *names: str) -> TypeGuard[ast.Call]:
        """`node` calls one of `names` imported from influxdb_client, in a module read for the old API."""
        return (
            self.v2
            and isinstance(node, ast.Call)
            and named(self.imports, node.func, "influxdb_client", *names)
        )

    def v3_call(self, node: ast.AST, *names: str) -> TypeGuard[ast.Call]:
        """`node` calls one of `names` imported from influxdb_client_3 (migrated code)."""
        return (
            self.v3
            and isinstance(node, ast.Call)
            and named(self.imports, node.func, "influxdb_client_3", *names)
        )

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """A value computed once per module for the rules' checks (which are offered every node)."""
        cache = self.__dict__.setdefault("_memo", {})
        if key not in cache:
            cache[key] = compute()
        return cache[key]

    @cached_property
    def receivers(self) -> Receivers:
        """Which expressions are clients and api objects: worked out when a check first asks (most modules' checks
        never do: they ask only about a call whose method name could be a site)."""
        return self._later_receivers.make()

    @cached_property
    def _later_receivers(self) -> LaterReceivers:
        """The module's `Receivers`, made once when first asked, for these facts and their Flux strings alike. It
        holds the tree and the imports, not these facts: a closure over them would make a reference cycle that
        keeps the module's tree (and every node of it) alive after the scan drops it, until the cyclic collector
        walks them all."""
        return LaterReceivers(functools.cache(functools.partial(Receivers, self.tree, self.imports)))

    @cached_property
    def flux(self) -> ModuleFlux:
        """The module's Flux strings, `.flux` paths and query wrappers, as the Flux rules read them."""
        from fleetshift.recipes.influxdb.flux.sites import ModuleFlux

        return ModuleFlux(self.tree, self.text, self.imports, self._later_receivers)

    @cached_property
    def connection_guards(self) -> Mapping[int, str]:
        """Lines of `except <connection error>` types around queries (requests, urllib3, builtin), with the
        name: influxdb3-python raises `InfluxDB3ClientQueryError` for every failed query, these never match."""
        return connection_guards(self.tree, self.imports) if self.v2 or self.v3 else {}

    @cached_property
    def used(self) -> frozenset[str]:
        """Names the module reads, leaving out the warning filters the rewrite removes."""
        from fleetshift.recipes.influxdb.rules.warnings_filter import is_v2_filter

        dropped = {id(n) for s in self.nodes if is_v2_filter(self.imports, s) for n in ast.walk(s)}
        return frozenset(n.id for n in self.nodes if isinstance(n, ast.Name) and id(n) not in dropped)

    @cached_property
    def api_uses(self) -> Mapping[int, list[ast.Call]]:
        """The method calls made on each `X.query_api()` / `X.write_api()` call (by id() of that call): inline
        (`X.query_api().query(...)`) or through the one name or `self.` attribute it is assigned to."""
        out: dict[int, list[ast.Call]] = {}
        bound: dict[str, list[int]] = {}
        for node in self.nodes:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and is_api_call(node.value):
                target = node.targets[0]
                if isinstance(target, ast.Name | ast.Attribute):
                    bound.setdefault(ast.unparse(target), []).append(id(node.value))
                    out.setdefault(id(node.value), [])
        for node in self.nodes:
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                inner = node.func.value
                if is_api_call(inner):
                    out.setdefault(id(inner), []).append(node)
                elif (
                    isinstance(inner, ast.Name | ast.Attribute)
                    and len(ids := bound.get(ast.unparse(inner), [])) == 1
                ):
                    out[ids[0]].append(node)
        return out

    def assigned_text(self, name: ast.Name) -> str | None:
        """The text of the one string (or f-string) a name is assigned in its own scope, or None (a parameter,
        several assignments, another expression)."""
        from fleetshift.recipes.influxdb.hosts import ast_text

        scope = self.receivers.scope_of.get(id(name))
        if scope is not None and name.id in {a.arg for a in ast.walk(scope.args) if isinstance(a, ast.arg)}:
            return None

        def assigned(where: ast.AST | None) -> list[ast.expr]:
            return [
                n.value
                for n in (ast.walk(where) if where is not None else self.nodes)
                if isinstance(n, ast.Assign)
                and self.receivers.scope_of.get(id(n)) is where
                and any(isinstance(t, ast.Name) and t.id == name.id for t in n.targets)
            ]

        values = assigned(scope)
        if not values and scope is not None and name.id not in self.receivers.bound.get(id(scope), set()):
            values = assigned(None)  # a module-level name read in a function
        return ast_text(values[0]) if len(values) == 1 else None

    @property
    def v2_env(self) -> bool:
        """The module names the v2 client's environment variables."""
        return V2_ENV_PREFIX in self.text


_NODES: list[tuple[ast.AST, tuple[ast.AST, ...]]] = []


def module_nodes(tree: ast.AST) -> tuple[ast.AST, ...]:
    """`tuple(ast.walk(tree))`, listed once per tree: detection reads the same module in many passes (the
    dispatch to the checks, the facts, the Flux finder), and walking the tree is the most of their cost."""
    for seen, nodes in _NODES:
        if seen is tree:
            return nodes
    nodes = tuple(walk(tree))
    _NODES[:] = [(tree, nodes), *_NODES[:1]]
    return nodes


_SERVICE: list = [None, (), {}]  # the files mapping last asked about, its items, what was computed from it


def per_service(files: Mapping[str, str], compute: Callable[[Mapping[str, str]], T]) -> T:
    """`compute(files)` once per service: the service-wide facts (its buckets, its query wrappers) are the same
    for each of its files, so they are worked out for the first file and kept while the same mapping holds the
    same texts (compared by identity: a changed or replaced text computes them again)."""
    items = tuple(files.items())
    last_files, last_items, memo = _SERVICE
    if not (
        last_files is files
        and len(last_items) == len(items)
        and all(a[0] == b[0] and a[1] is b[1] for a, b in zip(last_items, items, strict=True))
    ):
        memo = {}
        _SERVICE[:] = [files, items, memo]
    if compute not in memo:
        memo[compute] = compute(files)
    return memo[compute]


def service_modules(files: Mapping[str, str], *needles: str) -> Iterator[tuple[str, str, ast.Module]]:
    """(path, text, tree) of each Python file of a service whose text holds all of `needles` and parses."""
    for path, text in files.items():
        if not path.endswith(".py") or not all(n in text for n in needles):
            continue
        try:
            tree = parse_tree(text)
        except SyntaxError:
            continue
        yield path, text, tree


def facts_of(text: str, tree: ast.Module, *, old_api: bool = True) -> Facts:
    """The facts of one module; `old_api=False` reads it as migrated code (only the v3 traps are checked)."""
    imports = Imports(tree)
    v2 = old_api and imports.imports_module("influxdb_client")
    v3 = imports.imports_module("influxdb_client_3")
    guards = query_guards(tree, imports) if v2 and "ApiException" in text else {}
    return Facts(text, tree, imports, guards, v2, v3)


def v3_api_calls(node: ast.AST, facts: Facts, api: str) -> Iterator[str]:
    """`client.<api>()` on a client of migrated code (InfluxDBClient3 has none)."""
    if facts.v3 and isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr == api and facts.receivers.kind(node.func.value) == "client":
            yield f"InfluxDBClient3 has no {api}()"


def is_api_call(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("query_api", "write_api")
    )


def named(imports: Imports, node: ast.AST, module: str, *names: str) -> bool:
    """`node` is one of `names` imported from `module` (or one of its submodules)."""
    q = imports.qualname(node)
    return bool(q and q.split(".", 1)[0] == module and q.rsplit(".", 1)[1] in names)


def is_const(kw: ast.keyword | None, value: object) -> bool:
    return kw is not None and isinstance(kw.value, ast.Constant) and kw.value.value is value


def is_api_exception(imports: Imports, node: ast.AST) -> bool:
    q = imports.qualname(node)
    return bool(q and q.startswith("influxdb_client.") and q.endswith(".ApiException"))


def called_methods(nodes: list[ast.stmt]) -> set[str]:
    """Method names called in statements (nested functions and classes excluded: they run elsewhere)."""
    out: set[str] = set()
    todo: list[ast.AST] = list(nodes)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            out.add(node.func.attr)
        todo.extend(ast.iter_child_nodes(node))
    return out


def query_guards(tree: ast.Module, imports: Imports) -> dict[int, str]:
    """Lines of `ApiException` references that must not become `InfluxDBError`, with the reason.

    influxdb3-python raises `InfluxDBError` for writes only; query errors are `InfluxDB3ClientQueryError`
    (no `.status`), which `except InfluxDBError` never catches. A reference is kept when the code it
    guards (the `try` body of its handler, the body of the `with` it appears in, e.g. `pytest.raises`)
    calls a query method, or when the module queries and the reference cannot be tied to a write.
    """
    module_queries = any(
        isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in QUERY_METHODS
        for n in module_nodes(tree)
    )
    guarded: dict[int, list[ast.stmt]] = {}  # id(ApiException node) -> statements it guards
    for node in module_nodes(tree):
        if isinstance(node, ast.Try | ast.TryStar):
            for handler in node.handlers:
                if handler.type is not None:
                    for ref in ast.walk(handler.type):
                        guarded[id(ref)] = node.body
        elif isinstance(node, ast.With | ast.AsyncWith):
            for item in node.items:
                for ref in ast.walk(item.context_expr):
                    guarded[id(ref)] = node.body
    out: dict[int, str] = {}
    for node in module_nodes(tree):
        if not isinstance(node, ast.Name | ast.Attribute) or not is_api_exception(imports, node):
            continue
        body = guarded.get(id(node))
        called = called_methods(body) if body is not None else set()
        if called & QUERY_METHODS:
            out[node.lineno] = "it guards a query"
        elif module_queries and not called & WRITE_METHODS:
            out[node.lineno] = "the module queries and this use is not tied to a write"
    return out


def connection_error(imports: Imports, node: ast.AST) -> str | None:
    """The name of a connection-error class an except clause names, or None."""
    q = imports.qualname(node)
    if q is None and isinstance(node, ast.Name) and node.id not in imports.names:
        q = node.id  # a builtin
    if q is None:
        return None
    if q.startswith(("requests.", "urllib3.exceptions.", "httpx.")) or q in CONNECTION_ERRORS:
        return q
    return None


def connection_guards(tree: ast.Module, imports: Imports) -> dict[int, str]:
    """Lines of connection-error types in `except` clauses whose `try` body calls a query method."""
    out: dict[int, str] = {}
    for node in module_nodes(tree):
        if not isinstance(node, ast.Try | ast.TryStar) or not called_methods(node.body) & QUERY_METHODS:
            continue
        for handler in node.handlers:
            if handler.type is None:
                continue
            types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
            for t in types:
                name = connection_error(imports, t)
                if name is not None:
                    out.setdefault(t.lineno, name)
    return out
