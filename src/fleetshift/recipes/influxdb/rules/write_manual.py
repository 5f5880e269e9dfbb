"""a write the recipe could not rewrite

call client.write(record=..., database=...) on the InfluxDBClient3
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.recipes.influxdb.facts import Facts
from fleetshift.recipes.influxdb.rules import V3_README
from fleetshift.recipes.rule import HUMAN, rule

if TYPE_CHECKING:
    import libcst as cst

    from fleetshift.recipes.influxdb.plan import Planning

RULE = rule(__name__, __doc__, HUMAN, link=V3_README, order=9)
NODES = (ast.Call,)  # the node types its check looks at
STAGE = 2


def check(node: ast.AST, facts: Facts) -> Iterator[str]:
    yield from v3_api_calls(node, facts, "write_api")


def v3_api_calls(node: ast.AST, facts: Facts, api: str) -> Iterator[str]:
    """`client.<api>()` on a client of migrated code (InfluxDBClient3 has none)."""
    if facts.v3 and isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr == api and facts.receivers.kind(node.func.value) == "client":
            yield f"InfluxDBClient3 has no {api}()"


def plan(p: Planning) -> None:
    note_leftover_apis(p, RULE.slug, "write_api")


def note_leftover_apis(p: Planning, slug: str, api: str) -> None:
    """A Finding of rule `slug` at each `X.<api>()` call no rule consumed."""
    for call in leftover_apis(p, api):
        p.note(
            slug,
            call,
            f"`{api}()` objects do not exist in influxdb3-python: pass the InfluxDBClient3 "
            "and call its write()/query() instead",
        )


def leftover_apis(p: Planning, api: str) -> Iterator[cst.Call]:
    """`X.<api>()` calls (write_api/query_api) that no rule consumed: not bound to a name the write or query
    rule planned, not called on directly, not a `with` item, not on an async client."""
    import libcst as cst

    handled = {id(b.call) for b in p.apis.values()}
    for call in p.facts.analysis.calls:
        f = call.func
        if isinstance(f, cst.Attribute) and isinstance(f.value, cst.Call):
            inner = f.value.func
            if isinstance(inner, cst.Attribute) and inner.attr.value in ("write_api", "query_api"):
                handled.add(id(f.value))
        if isinstance(p.facts.parent.get(call), cst.WithItem):
            handled.add(id(call))
    for call in p.facts.analysis.calls:
        f = call.func
        if (
            isinstance(f, cst.Attribute)
            and f.attr.value == api
            and id(call) not in handled
            and not p.is_async(f.value)
        ):
            yield call
