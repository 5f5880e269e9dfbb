"""write_api().write(bucket=, org=, record=) -> client.write(record=, database=)

the write_api object collapses into the client; positional arguments become keywords
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.recipes.influxdb.facts import Facts
from fleetshift.recipes.influxdb.rules import V3_README
from fleetshift.recipes.influxdb.rules.async_client import on_async_client
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    import libcst as cst

    from fleetshift.recipes.influxdb.plan import ApiBinding, Planning

RULE = rule(__name__, __doc__, AUTO, link=V3_README, order=8)
NODES = (ast.Call,)  # the node types its check looks at
STAGE = 1
WRITE_POSITIONAL = ("bucket", "org", "record", "write_precision")  # influxdb-client WriteApi.write()


def check(node: ast.AST, facts: Facts) -> Iterator[str]:
    if facts.v2 and isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr == "write_api" and not on_async_client(node, facts):
            yield ""


def plan(p: Planning) -> None:
    """write_api objects kept in names, then writes made inline on `X.write_api(...)` or with bucket=/record=."""
    import libcst as cst

    from fleetshift.recipes.influxdb.edits import code_of
    from fleetshift.recipes.influxdb.rules import flush_close, write_options

    for b in p.kept("write"):
        plan_binding(p, b)
    for call, inner in p.inline_calls():
        f = cst.ensure_type(call.func, cst.Attribute)
        if inner is not None:
            api, client = inner.func.attr.value, inner.func.value  # type: ignore[attr-defined]
            if p.is_async(client) or api == "query_api":
                continue
            if api == "write_api" and f.attr.value == "write":
                if write_options.options_ok(p, inner, None) and plan_write_call(p, call, code_of(client)):
                    continue
            elif api == "write_api" and f.attr.value in ("flush", "close"):
                flush_close.plan_call(p, call, code_of(client))
                continue
        if f.attr.value == "write" and {a.keyword.value for a in call.args if a.keyword} >= {
            "bucket",
            "record",
        }:
            plan_write_call(p, call, None)


def plan_binding(p: Planning, b: ApiBinding) -> None:
    """`W = client.write_api(...)` and its uses: each `W.write(...)` becomes `client.write(...)` and the
    binding goes when every use was rewritten on a client visible there."""
    import libcst as cst

    from fleetshift.recipes.influxdb.edits import code_of, parse_expr
    from fleetshift.recipes.influxdb.rules import flush_close, write_options

    if p.is_async(b.client) or not write_options.options_ok(p, b.call, b):
        return
    collapse = not b.other_uses and all(p.client_usable_at(b.client, u) for u in b.uses)
    client = b.client
    for use in b.uses:
        method = use.attr.value
        call = p.facts.parent[use]
        receiver_code = code_of(client) if collapse else None
        if method == "write":
            plan_write_call(p, call, receiver_code)
        elif method in ("flush", "close"):
            flush_close.plan_call(p, call, receiver_code)
        else:
            p.note(
                "write-manual",
                use,
                f"`{code_of(use)}()` has no influxdb3-python equivalent; call the client instead",
            )
            collapse = False
    if b.with_node is not None:
        plan_with(p, b, collapse)
    elif collapse:
        p.set(b.stmt, lambda n: cst.RemoveFromParent())  # type: ignore[arg-type]
    else:
        p.set(b.call, lambda n, c=code_of(client): parse_expr(c))


def plan_with(p: Planning, b: ApiBinding, collapse: bool) -> None:
    """`with client.write_api() as W:` -> the block's statements (or `with client as W` when W stays)."""
    import libcst as cst

    from fleetshift.recipes.influxdb.edits import code_of, parse_expr

    w = b.with_node
    assert w is not None
    if len(w.items) != 1 or not collapse:
        p.set(b.call, lambda n, c=code_of(b.client): parse_expr(c))
        return

    def lift(n: cst.CSTNode) -> cst.CSTNode | cst.FlattenSentinel:
        body = n.body  # type: ignore[attr-defined]
        if not isinstance(body, cst.IndentedBlock):
            return n
        stmts = list(body.body)
        if stmts:
            stmts[0] = stmts[0].with_changes(leading_lines=[*n.leading_lines, *stmts[0].leading_lines])  # type: ignore[attr-defined]
        return cst.FlattenSentinel(stmts)

    p.set(w, lift)


def plan_write_call(p: Planning, call: cst.Call, receiver: str | None) -> bool:
    """Rewrite `X.write(bucket, org, record, ...)` to `client.write(record=, database=, ...)`."""
    from fleetshift.recipes.influxdb.edits import code_of, named_args, parse_expr, relayout

    pairs = named_args(call.args, WRITE_POSITIONAL)
    if pairs is None:
        if any(a.star for a in call.args):
            p.note(
                "write-manual",
                call,
                "write() with *args/**kwargs: rewrite to `client.write(record=..., database=...)` by hand",
            )
        return False
    named = {name: a.value for name, a in pairs}
    if "record" not in named or "bucket" not in named:
        p.note(
            "write-manual",
            call,
            "write() without bucket or record: rewrite to `client.write(record=..., database=...)` by hand",
        )
        return False
    p.plan.buckets.append((named["bucket"], code_of(named["bucket"])))
    original = list(call.args)

    def fix(n: cst.CSTNode) -> cst.CSTNode:
        got = named_args(n.args, WRITE_POSITIONAL) or []  # type: ignore[attr-defined]
        values = dict((name, a.value) for name, a in got)
        new: list[tuple[str | None, cst.BaseExpression]] = [
            ("record", values["record"]),
            ("database", values["bucket"]),
        ]
        if "write_precision" in values:
            new.append(("write_precision", values["write_precision"]))
        rest = [(name, a.value) for name, a in got if name not in WRITE_POSITIONAL]
        func = n.func  # type: ignore[attr-defined]
        if receiver is not None:
            func = func.with_changes(value=parse_expr(receiver))
        return n.with_changes(func=func, args=relayout(original, [*new, *rest]))  # type: ignore[attr-defined]

    p.set(call, fix)
    return True
