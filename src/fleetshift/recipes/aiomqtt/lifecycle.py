"""Client lifecycle (A7), shared by connect-disconnect and connect-manual: paired `connect()`/`disconnect()`
calls become `async with` or `__aenter__()`/`__aexit__(None, None, None)`; any other shape is reported.

`lifecycle_sites(facts)` judges every connect()/disconnect() call on a known Client of a file once (cached
per file), grouped by receiver, and returns the sites of both rules in report order.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, replace
from functools import lru_cache

from fleetshift.model import Severity
from fleetshift.recipes.aiomqtt.edits import CallOp
from fleetshift.recipes.aiomqtt.facts import Facts, Site, fix_text

AENTER = CallOp("method", "__aenter__", "")
AEXIT = CallOp("method", "__aexit__", "None, None, None")


@dataclass(frozen=True)
class TryToWith:
    """Turn a `try: ... finally: await <recv>.disconnect()` into `async with <recv>:`."""

    receiver: str


@dataclass(frozen=True)
class DropStatement:
    """Remove the statement `await <call>` (its leading comments go to the statement that takes its place)."""


DROP = DropStatement()


def sites_of(facts: Facts, slug: str) -> list[Site]:
    """The lifecycle sites of one rule."""
    return [s for s in lifecycle_sites(facts) if s.rule == slug]


@lru_cache(maxsize=32)
def lifecycle_sites(facts: Facts) -> tuple[Site, ...]:
    """Every connect()/disconnect() site of a file, in report order."""
    if not facts.mqtt_file:
        return ()
    groups: dict[tuple[int, str], list[tuple[ast.Call, str]]] = {}
    for node in ast.walk(facts.tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        method = node.func.attr
        if method not in ("connect", "disconnect") or not facts.known(node.func.value, node):
            continue
        scope = facts.scope_for(node.func.value, node)
        groups.setdefault((scope or 0, ast.unparse(node.func.value)), []).append((node, method))
    out: list[Site] = []
    for (_scope, recv), calls in groups.items():
        calls.sort(key=lambda c: (c[0].lineno, c[0].col_offset))
        problem = _pair_problem(facts, calls)
        if problem:
            for call, method in calls:
                out.append(
                    facts.human(
                        "connect-manual",
                        call,
                        f"{recv}.{method}(): not rewritten ({problem}). {fix_text('connect-manual')}",
                    )
                )
            continue
        for i in range(0, len(calls), 2):
            out.extend(_pair(facts, calls[i][0], calls[i + 1][0], recv))
    return tuple(replace(s, order=(i,)) for i, s in enumerate(out))


def _pair_problem(facts: Facts, calls: list[tuple[ast.Call, str]]) -> str:
    methods = [m for _, m in calls]
    if len(methods) % 2 or methods != ["connect", "disconnect"] * (len(methods) // 2):
        return "connect() and disconnect() do not come in pairs"
    for call, method in calls:
        await_node = facts.parents.get(id(call))
        if not (
            isinstance(await_node, ast.Await) and isinstance(facts.parents.get(id(await_node)), ast.Expr)
        ):
            return f"the result of {method}() is used"
        for kw in call.keywords:
            if not (kw.arg == "timeout" and isinstance(kw.value, ast.Constant) and kw.value.value == 10):
                return f"{method}() is given {kw.arg or '**'}=; set Client(timeout=...) instead"
        if call.args:
            return f"{method}() is given arguments"
    for i in range(0, len(calls), 2):
        if _loop_of(facts, calls[i][0]) is not _loop_of(facts, calls[i + 1][0]):
            return "connect() and disconnect() sit in different loops (a reconnect loop)"
    return ""


def _loop_of(facts: Facts, node: ast.AST) -> ast.AST | None:
    cur = facts.parents.get(id(node))
    while cur is not None and not isinstance(cur, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        if isinstance(cur, ast.For | ast.AsyncFor | ast.While):
            return cur
        cur = facts.parents.get(id(cur))
    return None


def _pair(facts: Facts, connect: ast.Call, disconnect: ast.Call, recv: str) -> list[Site]:
    stmt = facts.parents[id(facts.parents[id(connect)])]
    block = facts.block_of(stmt)
    at = block.index(stmt) if stmt in block else -1
    nxt = block[at + 1] if 0 <= at < len(block) - 1 else None
    if (
        isinstance(nxt, ast.Try)
        and not nxt.handlers
        and not nxt.orelse
        and len(nxt.finalbody) == 1
        and isinstance(nxt.finalbody[0], ast.Expr)
        and nxt.finalbody[0].value is facts.parents.get(id(disconnect))
    ):
        edits = ((facts.key(nxt), TryToWith(recv)), (facts.key(connect), DROP))
        return [
            facts.site(
                "connect-disconnect",
                connect,
                f"connect()/try/finally disconnect() -> async with {recv}",
                edits=edits,
            )
        ]
    return [
        facts.site(
            "connect-disconnect", connect, "connect() -> __aenter__()", edits=((facts.key(connect), AENTER),)
        ),
        facts.site(
            "connect-disconnect",
            disconnect,
            "disconnect() -> __aexit__(None, None, None)",
            edits=((facts.key(disconnect), AEXIT),),
        ),
        facts.site(
            "connect-disconnect",
            connect,
            f"consider `async with {recv}:` around the connected code",
            finding=True,
            severity=Severity.ADVICE,
        ),
    ]
