"""influxdb3-python has no async client

use InfluxDBClient3 with await client.query_async(...) and asyncio.to_thread(client.write, ...)
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.recipes._ast import Imports, walk
from fleetshift.recipes.influxdb.facts import Facts, module_nodes, named
from fleetshift.recipes.influxdb.rules import V3_README
from fleetshift.recipes.rule import HUMAN, rule

if TYPE_CHECKING:
    from fleetshift.recipes.influxdb.plan import Planning

RULE = rule(__name__, __doc__, HUMAN, link=V3_README, order=24)
NODES = (ast.Call,)  # the node types its check looks at
STAGE = 0
CLIENT = (
    "influxdb3-python has no async client: use `with InfluxDBClient3(...)` and "
    "`await client.query_async(sql, mode=...)` for queries, `await asyncio.to_thread(client.write, "
    "record=..., database=...)` for writes"
)
CALLS = {  # (api object or "", method) on an InfluxDBClientAsync -> the influxdb3-python way
    (
        "query_api",
        "query",
    ): "`await client.query_async(sql, database=...)` (one pyarrow.Table; rows: `.to_pylist()`)",
    ("query_api", "query_data_frame"): '`await client.query_async(sql, database=..., mode="pandas")`',
    (
        "query_api",
        "query_stream",
    ): '`await client.query_async(sql, database=..., mode="reader")`, then iterate the batches',
    ("query_api", "query_raw"): "no raw query response on InfluxDB 3: `await client.query_async(sql)`",
    (
        "write_api",
        "write",
    ): "`await asyncio.to_thread(client.write, record=..., database=...)` (returns None, not True)",
    ("delete_api", "delete"): "no predicate delete on InfluxDB 3: delete tables or databases as an ops step",
    (
        "",
        "close",
    ): "`client.close()` of InfluxDBClient3 is not a coroutine: call it without await (or `with InfluxDBClient3(...)`)",
    (
        "",
        "ping",
    ): "no ping(): `await asyncio.to_thread(client.get_server_version)` raises when the server is away",
    ("", "version"): "`await asyncio.to_thread(client.get_server_version)`",
}


def async_clients(tree: ast.Module, imports: Imports) -> set[str]:
    """The names (`client`, `self.client`) bound to an `InfluxDBClientAsync(...)`."""
    out: set[str] = set()
    for node in module_nodes(tree):
        pairs: list[tuple[ast.AST | None, ast.AST]] = []
        if isinstance(node, ast.Assign):
            pairs = [(t, node.value) for t in node.targets]
        elif isinstance(node, ast.withitem):
            pairs = [(node.optional_vars, node.context_expr)]
        for target, value in pairs:
            if (
                isinstance(target, ast.Name | ast.Attribute)
                and isinstance(value, ast.Call)
                and named(imports, value.func, "influxdb_client", "InfluxDBClientAsync")
            ):
                out.add(ast.unparse(target))
    return out


def async_call(node: ast.AST, clients: set[str]) -> str | None:
    """The v3 way for a call made on an async client (`await client.query_api().query(...)`), or None."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return None
    recv, method = node.func.value, node.func.attr
    if isinstance(recv, ast.Call) and isinstance(recv.func, ast.Attribute):
        if ast.unparse(recv.func.value) in clients:
            return CALLS.get((recv.func.attr, method))
        return None
    return CALLS.get(("", method)) if ast.unparse(recv) in clients else None


def on_async_client(api: ast.Call, facts: Facts) -> bool:
    """`X.query_api()` / `X.write_api()` where X is an InfluxDBClientAsync (the run leaves those to a human)."""
    clients = facts.memo("async-clients", lambda: async_clients(facts.tree, facts.imports))
    return isinstance(api.func, ast.Attribute) and ast.unparse(api.func.value) in clients


def check(node: ast.AST, facts: Facts) -> Iterator[str]:
    if not isinstance(node, ast.Call):
        return
    if facts.v2_call(node, "InfluxDBClientAsync"):
        yield ""
    if facts.v2:
        clients = facts.memo("async-clients", lambda: async_clients(facts.tree, facts.imports))
        way = async_call(node, clients)
        if way is not None:
            yield way
    if facts.v3 and awaited_close(node, facts):
        yield CALLS[("", "close")]


def awaited_close(node: ast.Call, facts: Facts) -> bool:
    """`await client.close()` on an InfluxDBClient3 (migrated code that kept the async client's await)."""
    f = node.func
    if not (isinstance(f, ast.Attribute) and f.attr == "close" and facts.receivers.kind(f.value) == "client"):
        return False
    return any(isinstance(a, ast.Await) and a.value is node for a in facts.nodes)


def plan(p: Planning) -> None:
    """A Finding at the constructor and at each call on the async client, with the influxdb3-python way."""
    for call in p.facts.analysis.calls:
        if p.is_v2(call.func, "InfluxDBClientAsync"):
            p.note("async-client", call, CLIENT)
    clients = async_clients(p.facts.tree, p.facts.imports)
    if clients:
        for node in walk(p.facts.tree):
            way = async_call(node, clients)
            if way is not None:
                p.note("async-client", node.lineno, way)  # type: ignore[attr-defined]
