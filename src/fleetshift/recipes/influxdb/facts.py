"""What the rules' checks read about one module, gathered once on the standard `ast`: its imports, which
expressions are clients, what each `ApiException` guards, and which client generation it imports.

Every rule module's `check(node, facts)` is offered each node of the module and yields one detail per
site (an empty string for the rule's summary). Nothing here imports LibCST.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass

from fleetshift.recipes._ast import Imports
from fleetshift.recipes.influxdb.receivers import Receivers

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


@dataclass(frozen=True)
class Facts:
    """One module as the checks read it. `v2`: it imports influxdb_client (its old-API sites are reported);
    `v3`: it imports influxdb_client_3 (the traps of migrated code are reported)."""

    text: str
    tree: ast.Module
    imports: Imports
    receivers: Receivers
    guards: Mapping[int, str]  # lines of `ApiException` references that may guard a query, with the reason
    v2: bool
    v3: bool

    @property
    def v2_env(self) -> bool:
        """The module names the v2 client's environment variables."""
        return V2_ENV_PREFIX in self.text


def facts_of(text: str, tree: ast.Module, *, old_api: bool = True) -> Facts:
    """The facts of one module; `old_api=False` reads it as migrated code (only the v3 traps are checked)."""
    imports = Imports(tree)
    v2 = old_api and imports.imports_module("influxdb_client")
    v3 = imports.imports_module("influxdb_client_3")
    guards = query_guards(tree, imports) if v2 else {}
    return Facts(text, tree, imports, Receivers(tree, imports), guards, v2, v3)


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
        for n in ast.walk(tree)
    )
    guarded: dict[int, list[ast.stmt]] = {}  # id(ApiException node) -> statements it guards
    for node in ast.walk(tree):
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
    for node in ast.walk(tree):
        if not isinstance(node, ast.Name | ast.Attribute) or not is_api_exception(imports, node):
            continue
        body = guarded.get(id(node))
        called = called_methods(body) if body is not None else set()
        if called & QUERY_METHODS:
            out[node.lineno] = "it guards a query"
        elif module_queries and not called & WRITE_METHODS:
            out[node.lineno] = "the module queries and this use is not tied to a write"
    return out
