"""InfluxDBClient(**mapping) passes v2 keys to InfluxDBClient3

the mapping's keys must be influxdb3-python's: url -> host (scheme://host:port), bucket -> database
(required on 0.21), timeout -> write_timeout/query_timeout; username/password/auth_basic are gone and
org is accepted but unused by InfluxDB 3
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.recipes.influxdb.facts import Facts, module_nodes
from fleetshift.recipes.influxdb.rules import V3_README
from fleetshift.recipes.rule import HUMAN, rule

if TYPE_CHECKING:
    import libcst as cst

    from fleetshift.recipes.influxdb.plan import Planning

RULE = rule(__name__, __doc__, HUMAN, link=V3_README, order=39)
NODES = (ast.Call,)  # the node types its check looks at


def check(node: ast.AST, facts: Facts) -> Iterator[str]:
    if not isinstance(node, ast.Call):
        return
    v2 = facts.v2_call(node, "InfluxDBClient")
    if v2:
        for k in node.keywords:
            if k.arg is None:
                yield f"InfluxDBClient(**{ast.unparse(k.value)}): {RULE.fix}"
        for a in node.args:
            if isinstance(a, ast.Starred):
                yield f"InfluxDBClient(*{ast.unparse(a.value)}): pass host=, token=, database= by keyword"
    if facts.v3_call(node, "InfluxDBClient3"):
        for k in node.keywords:
            keys = v2_keys(k.value, facts) if k.arg is None else []
            if keys:
                yield f"InfluxDBClient3(**{ast.unparse(k.value)}) passes influxdb-client keys ({', '.join(keys)}): {RULE.fix}"


V2_KEYS = ("url", "bucket", "timeout", "username", "password", "auth_basic")
DUMPS = ("model_dump", "dict", "_asdict", "to_dict")  # pydantic, namedtuple, ...: settings object -> mapping


def v2_keys(expr: ast.AST, facts: Facts) -> list[str]:
    """The v2-only keys a `**mapping` visibly carries: a dict literal, `dict(...)`, or the dump of a settings
    object whose class (defined in the module) has such fields."""
    if isinstance(expr, ast.Dict):
        return [k.value for k in expr.keys if isinstance(k, ast.Constant) and k.value in V2_KEYS]
    if not isinstance(expr, ast.Call):
        return []
    if isinstance(expr.func, ast.Name) and expr.func.id == "dict":
        return [k.arg for k in expr.keywords if k.arg in V2_KEYS]
    dumped = isinstance(expr.func, ast.Attribute) and expr.func.attr in DUMPS
    converted = isinstance(expr.func, ast.Name) and expr.func.id in ("vars", "asdict") and expr.args
    if not (dumped or converted):
        return []
    fields = facts.memo("settings-fields", lambda: settings_fields(facts.tree))
    return (
        sorted({k for keys in fields.values() for k in keys if k in V2_KEYS})
        if "url" in {k for keys in fields.values() for k in keys}
        else []
    )


def settings_fields(tree: ast.Module) -> dict[str, set[str]]:
    """Annotated fields of the module's classes that look like InfluxDB 2 settings (a `url` and a `token`)."""
    out: dict[str, set[str]] = {}
    for node in module_nodes(tree):
        if isinstance(node, ast.ClassDef):
            names = {
                b.target.id
                for b in node.body
                if isinstance(b, ast.AnnAssign) and isinstance(b.target, ast.Name)
            }
            if {"url", "token"} <= names:
                out[node.name] = names
    return out


def note(p: Planning, call: cst.Call, star: str, value: cst.BaseExpression) -> None:
    """The constructor rewrite keeps a `*`/`**` argument as it is: what its keys or items must become."""
    from fleetshift.recipes.influxdb.edits import code_of

    if star == "**":
        p.note("client-mapping", call, f"InfluxDBClient3(**{code_of(value)}): {RULE.fix}")
    else:
        p.note(
            "client-mapping",
            call,
            f"InfluxDBClient3(*{code_of(value)}): pass host=, token=, database= by keyword",
        )
