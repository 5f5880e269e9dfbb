"""InfluxDBClient(url=, token=, org=, ...) -> InfluxDBClient3(host=, token=, database=, org=, ...)

url -> host (scheme://host:port), positional arguments become keywords, database= is the bucket used by
the writes/queries
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.recipes.influxdb.facts import Facts
from fleetshift.recipes.influxdb.names import V3
from fleetshift.recipes.influxdb.rules import V3_README
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    import libcst as cst

    from fleetshift.recipes.influxdb.plan import Planning

RULE = rule(__name__, __doc__, AUTO, link=V3_README, order=1)
NODES = (ast.Call,)  # the node types its check looks at
STAGE = 3
POSITIONAL = ("url", "token", "debug", "timeout", "enable_gzip", "org", "default_tags")  # InfluxDBClient()


def check(node: ast.AST, facts: Facts) -> Iterator[str]:
    if facts.v2_call(node, "InfluxDBClient"):
        yield ""


def plan(p: Planning) -> None:
    for call in p.facts.analysis.calls:
        if id(call) not in p.plan.locked and p.is_v2(call.func, "InfluxDBClient"):
            plan_ctor(p, call)


def plan_ctor(p: Planning, call: cst.Call) -> None:

    from fleetshift.recipes.influxdb.edits import relayout
    from fleetshift.recipes.influxdb.rules import (
        client_mapping,
        database,
        default_tags,
        gzip_threshold,
        host_port,
        timeout,
        unsupported_args,
        write_options,
    )

    items: list[tuple[str | None, cst.BaseExpression]] = []
    for i, a in enumerate(call.args):
        if a.star:
            items.append(("**" if a.star == "**" else "*", a.value))
            continue
        if a.keyword is None:
            if i >= len(POSITIONAL):
                return
            items.append((POSITIONAL[i], a.value))
        else:
            items.append((a.keyword.value, a.value))
    names = [n for n, _ in items]
    new: list[tuple[str | None, cst.BaseExpression]] = []
    for name, value in items:
        if name == "url":
            new.append(("host", host_port.host_value(p, value, call)))
        elif name == "timeout":
            new.extend(timeout.arguments(value))
        elif name in ("*", "**"):
            client_mapping.note(p, call, name, value)
            new.append((name, value))
        else:
            unsupported_args.argument(p, call, name)  # type: ignore[arg-type]
            default_tags.argument(p, call, name)  # type: ignore[arg-type]
            gzip_threshold.argument(p, call, name)  # type: ignore[arg-type]
            new.append((name, value))
    if "database" not in names:
        db = database.database_for(p, call)
        at = names.index("token") + 1 if "token" in names else (1 if "url" in names else 0)
        at = sum(2 if n == "timeout" else 1 for n in names[:at])
        if db is not None:
            new.insert(at, ("database", db))
    options = write_options.client_argument(p, call)
    if options is not None:
        new.append(("write_client_options", options))
    original = list(call.args)

    def fix(n: cst.CSTNode) -> cst.CSTNode:
        args = [(None, value) if name in ("*", "**") else (name, value) for name, value in new]
        built = relayout(original, args)
        for i, (name, _value) in enumerate(new):
            if name in ("*", "**"):
                built[i] = built[i].with_changes(star=name)
        return n.with_changes(func=rename_client(n.func), args=built)  # type: ignore[attr-defined]

    p.set(call, fix)


def rename_client(node: cst.CSTNode) -> cst.CSTNode:
    import libcst as cst

    if isinstance(node, cst.Name) and node.value == "InfluxDBClient":
        return node.with_changes(value="InfluxDBClient3")
    if isinstance(node, cst.Attribute) and node.attr.value == "InfluxDBClient":
        return cst.Attribute(value=cst.Name(V3), attr=cst.Name("InfluxDBClient3"))
    return node
