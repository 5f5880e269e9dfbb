"""What each `ApiException` of a v2 module guards: writes (-> `InfluxDBError`) or possibly queries.

influxdb3-python raises `InfluxDBError` for writes only; query errors are `InfluxDB3ClientQueryError`
(no `.status`), which `except InfluxDBError` never catches. So `ApiException` is renamed only where the
code it guards is clearly a write, or where the module makes no query at all.
"""

from __future__ import annotations

import ast

from fleetshift.recipes._ast import Imports

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


def _is_api_exception(imports: Imports, node: ast.AST) -> bool:
    q = imports.qualname(node)
    return bool(q and q.startswith("influxdb_client.") and q.endswith(".ApiException"))


def _calls(nodes: list[ast.stmt]) -> set[str]:
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

    A reference is kept when the code it guards (the `try` body of its handler, the body of the `with`
    it appears in, e.g. `pytest.raises`) calls a query method, or when the module queries and the
    reference cannot be tied to a write.
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
        if not isinstance(node, ast.Name | ast.Attribute) or not _is_api_exception(imports, node):
            continue
        body = guarded.get(id(node))
        called = _calls(body) if body is not None else set()
        if called & QUERY_METHODS:
            out[node.lineno] = "it guards a query"
        elif module_queries and not called & WRITE_METHODS:
            out[node.lineno] = "the module queries and this use is not tied to a write"
    return out
