"""an influxdb-client API with no influxdb3-python equivalent

delete/buckets/orgs/users/authorizations/labels/tasks/scripts APIs, health/ready/ping/build,
query_csv/query_raw: see the Finding for what to do instead
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.recipes._ast import walk
from fleetshift.recipes.influxdb.facts import Facts
from fleetshift.recipes.influxdb.names import CLIENT_NO_EQUIVALENT, QUERY_NO_EQUIVALENT
from fleetshift.recipes.influxdb.rules import MIGRATE
from fleetshift.recipes.influxdb.rules.patch_target import target_of, unpatchable
from fleetshift.recipes.rule import HUMAN, rule

if TYPE_CHECKING:
    import libcst as cst

    from fleetshift.recipes.influxdb.plan import Planning

RULE = rule(__name__, __doc__, HUMAN, link=MIGRATE, order=22)
NODES = (ast.Call,)  # the node types its check looks at
STAGE = 0


def check(node: ast.AST, facts: Facts) -> Iterator[str]:
    target = target_of(node)
    if target is not None and (why := unpatchable(target)):
        yield why
    if (
        (facts.v2 or facts.v3)
        and isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and (node.func.attr in CLIENT_NO_EQUIVALENT or node.func.attr in QUERY_NO_EQUIVALENT)
    ):  # (what `no_equivalent` asks first: the module's receivers are worked out only for such a call)
        name = facts.receivers.no_equivalent(node)
        if name is not None:
            table = CLIENT_NO_EQUIVALENT if name in CLIENT_NO_EQUIVALENT else QUERY_NO_EQUIVALENT
            yield f"{name}(): {table[name]}"


def same_calls(p: Planning, call: cst.Call) -> list[ast.Call]:
    """The `ast` calls of the same method on the same line as a LibCST call."""
    import libcst as cst

    if not isinstance(call.func, cst.Attribute):
        return []
    line, attr = p.line(call), call.func.attr.value
    return [
        n
        for n in walk(p.facts.tree)
        if isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and n.lineno == line
        and n.func.attr == attr
    ]


def plan(p: Planning) -> None:
    import libcst as cst

    for call in p.facts.analysis.calls:
        if not isinstance(call.func, cst.Attribute) or call.func.attr.value not in CLIENT_NO_EQUIVALENT:
            continue
        names = map(p.facts.receivers.no_equivalent, same_calls(p, call))
        name = next((n for n in names if n in CLIENT_NO_EQUIVALENT), None)
        if name is not None:
            p.note("no-equivalent", call, f"`{name}()`: {CLIENT_NO_EQUIVALENT[name]}")


def note_query_method(p: Planning, call: cst.Call, method: str) -> bool:
    """A query_api method with no equivalent (`query_csv`, ...): noted; False when `method` has one."""
    if method not in QUERY_NO_EQUIVALENT:
        return False
    p.note("no-equivalent", call, f"`{method}()`: {QUERY_NO_EQUIVALENT[method]}")
    return True
