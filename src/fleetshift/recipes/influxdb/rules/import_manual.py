"""a v2 name with no influxdb3-python counterpart is still imported

FluxTable/FluxRecord annotations become pyarrow.Table / row dicts, api classes (QueryApi, WriteApi, ...)
the InfluxDBClient3, warning classes go with their filters; the Finding names the v3 way for each name
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.recipes._ast import parse_tree, walk
from fleetshift.recipes.influxdb.facts import Facts
from fleetshift.recipes.influxdb.names import V3_NAMES, is_v2_module
from fleetshift.recipes.influxdb.rules import V3_README
from fleetshift.recipes.rule import HUMAN, rule

if TYPE_CHECKING:
    from fleetshift.recipes.influxdb.plan import Planning

RULE = rule(__name__, __doc__, HUMAN, link=V3_README, order=37)
NODES = (ast.ImportFrom,)  # the node types its check looks at

RESULTS = "query results are one pyarrow.Table (`client.query(sql)`), its rows dicts (`.to_pylist()`): annotate with `pyarrow.Table` / `dict`"
API = "influxdb3-python has no api objects: pass and annotate the `InfluxDBClient3`"
OPS = "InfluxDB 3 manages databases and retention outside the client (`influxdb3 create database <db> --retention-period 30d`): an ops step"
GUIDE = {
    "FluxTable": RESULTS,
    "FluxRecord": RESULTS,
    "TableList": RESULTS,
    "FluxStructure": RESULTS,
    "FluxColumn": RESULTS,
    "CSVIterator": RESULTS,
    "QueryApi": API,
    "WriteApi": API,
    "QueryApiAsync": API,
    "WriteApiAsync": API,
    "DeleteApi": API,
    "DeleteApiAsync": API,
    "BucketsApi": OPS,
    "Bucket": OPS,
    "BucketRetentionRules": OPS,
    "Organization": OPS,
    "InfluxDBClientAsync": "influxdb3-python has no async client: `InfluxDBClient3` with `await client.query_async(sql)` "
    "and `await asyncio.to_thread(client.write, ...)`",
    "Dialect": "no annotated CSV on InfluxDB 3: drop the dialect (`client.query(sql)` returns Arrow)",
    "MissingPivotFunction": "influxdb3-python never emits it (SQL results are already wide): drop the filter and the import",
}
OTHER = "no influxdb3-python counterpart: replace the use (see the migration guide)"


def guide(name: str) -> str:
    return GUIDE.get(name, OTHER)


def message(module: str, names: list[str]) -> str:
    return f"still imported from {module}: " + "; ".join(f"`{n}`: {guide(n)}" for n in names)


def staying(node: ast.ImportFrom, used: set[str]) -> list[str]:
    """The names of a v2 `from ... import` that the rewrite cannot move: used, with no v3 counterpart."""
    return [a.name for a in node.names if a.name not in V3_NAMES and (a.asname or a.name) in used]


def check(node: ast.AST, facts: Facts) -> Iterator[str]:
    if facts.v2 and isinstance(node, ast.ImportFrom) and node.module and is_v2_module(node.module):
        if not (facts.guards and all(a.name == "ApiException" for a in node.names)):
            names = staying(node, facts.used)
            if names:  # one site per import, as the run reports it
                yield message(node.module, names)


# `influxdb_client` as a whole name (not the start of `influxdb_client_3`): every import of a v2 module spells it
_V2_NAME = re.compile(r"influxdb_client(?![A-Za-z0-9_])")


def finish(code: str, p: Planning) -> str:
    """A Finding at each original import line whose v2 names the rewritten module still imports."""
    if code.isascii() and _V2_NAME.search(code) is None:
        return code  # imports no v2 module: nothing to parse (a non-ASCII text may spell the name otherwise)
    try:
        new = parse_tree(code)
    except SyntaxError:
        return code
    left: set[str] = set()  # "module.name" still imported from influxdb_client
    for node in walk(new):
        if isinstance(node, ast.ImportFrom) and node.module and is_v2_module(node.module):
            left.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            left.update(a.name for a in node.names if is_v2_module(a.name))
    if not left:
        return code
    for node in walk(p.facts.tree):
        if isinstance(node, ast.ImportFrom) and node.module and is_v2_module(node.module):
            names = [
                a.name for a in node.names if f"{node.module}.{a.name}" in left and a.name != "ApiException"
            ]
            if names:
                p.note("import-manual", node.lineno, message(node.module, names))
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name in left:
                    p.note(
                        "import-manual",
                        node.lineno,
                        f"`import {a.name}` stays: the module still uses v2 names through it; move each to "
                        "`influxdb_client_3` or replace it",
                    )
    return code
