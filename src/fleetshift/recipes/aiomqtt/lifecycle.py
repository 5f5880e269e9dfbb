"""Client lifecycle (A7), shared by connect-disconnect, force-disconnect and connect-manual.

asyncio-mqtt's `connect()`, `disconnect()` and `force_disconnect()` are gone in aiomqtt 2; the documented
way to use a client without `async with` is `await client.__aenter__()` and
`await client.__aexit__(None, None, None)`. Each awaited call on a known Client is rewritten on its own, so
a class that connects in `start()` and disconnects in `stop()` (with `force_disconnect()` in an except
clause) keeps its shape and its try/except: `__aenter__` raises MqttError where `connect()` did (refused,
unreachable, "Operation timed out"), and releases the client when it fails, so a retry loop can try again.
`__aexit__` forces the disconnection when it cannot disconnect cleanly, which is what `force_disconnect()`
was for.

- `connect(timeout=T)`/`disconnect(timeout=T)` bounded that one wait; `__aenter__`/`__aexit__` wait
  `client.timeout` (10 s, the per-call default of asyncio-mqtt), so the call is wrapped in
  `client.timeout = T` ... `client.timeout = 10`.
- A `connect()` followed by `try: ... finally: disconnect()` becomes `async with client:`.
- Not rewritten (connect-manual): a result that is used, a call that is not awaited as a statement (a task,
  `asyncio.wait_for`, whose cancellation would leave the client entered for good), arguments other than
  `timeout=`, and a reconnect loop: a `connect()` repeated in a loop that neither leaves the loop once
  connected nor disconnects in it, where aiomqtt 2 raises MqttReentrantError on the second pass.

`lifecycle_sites(facts)` judges every such call of a file once (cached per file) and returns the sites of
the three rules in report order.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, replace
from functools import lru_cache

from fleetshift.model import Severity
from fleetshift.recipes.aiomqtt.edits import CallOp
from fleetshift.recipes.aiomqtt.facts import Facts, Site, fix_text
from fleetshift.recipes.aiomqtt.tree import handler_types

AENTER = CallOp("method", "__aenter__", "")
AEXIT = CallOp("method", "__aexit__", "None, None, None")
METHODS = ("connect", "disconnect", "force_disconnect")
DEFAULT_TIMEOUT = "10"  # asyncio-mqtt's per-call default, and aiomqtt 2's Client(timeout=None)
CATCH_ALL = frozenset({"Exception", "BaseException", "builtins.Exception", "builtins.BaseException"})


@dataclass(frozen=True)
class TryToWith:
    """Turn a `try: ... finally: await <recv>.disconnect()` into `async with <recv>:`."""

    receiver: str


@dataclass(frozen=True)
class DropStatement:
    """Remove the statement `await <call>` (its leading comments go to the statement that takes its place)."""


@dataclass(frozen=True)
class WithTimeout:
    """Set `<receiver>.timeout = <code>` before the statement `await <call>` and put the default back after it."""

    receiver: str
    code: str


DROP = DropStatement()


def sites_of(facts: Facts, slug: str) -> list[Site]:
    """The lifecycle sites of one rule."""
    return [s for s in lifecycle_sites(facts) if s.rule == slug]


@lru_cache(maxsize=32)
def lifecycle_sites(facts: Facts) -> tuple[Site, ...]:
    """Every connect()/disconnect()/force_disconnect() site of a file, in report order."""
    if not facts.mqtt_file:
        return ()
    groups: dict[tuple[int, str], list[ast.Call]] = {}
    out: list[Site] = []
    for node in facts.of(ast.Call):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in METHODS:
            continue
        if not facts.known(node.func.value, node):
            if node.func.attr == "force_disconnect" and not facts.is_client_call(node):
                message = (
                    f"{ast.unparse(node.func)}(): the receiver could not be resolved to a Client; if it is one, "
                    "await its __aexit__(None, None, None) (force_disconnect() was removed in aiomqtt 1.0)."
                )
                out.append(facts.human("force-disconnect", node, message))
            continue
        scope = facts.scope_for(node.func.value, node)
        groups.setdefault((scope or 0, ast.unparse(node.func.value)), []).append(node)
    for (_scope, recv), calls in groups.items():
        calls.sort(key=lambda c: (c.lineno, c.col_offset))
        out.extend(_group(facts, recv, calls))
    return tuple(replace(s, order=(i,)) for i, s in enumerate(out))


def _group(facts: Facts, recv: str, calls: list[ast.Call]) -> list[Site]:
    out: list[Site] = []
    folded: set[int] = set()
    for call in calls:
        if id(call) in folded:
            continue
        method = call.func.attr  # type: ignore[attr-defined]
        problem = _problem(facts, call, method, calls)
        if problem:
            slug = "force-disconnect" if method == "force_disconnect" else "connect-manual"
            fix = fix_text(slug)
            out.append(facts.human(slug, call, f"{recv}.{method}(): not rewritten ({problem}). {fix}"))
            continue
        if method == "connect" and (disconnect := _finally_disconnect(facts, call)) is not None:
            folded.add(id(disconnect))
            try_node = _next_statement(facts, call)
            assert try_node is not None
            edits = ((facts.key(try_node), TryToWith(recv)), (facts.key(call), DROP))
            message = f"connect()/try/finally disconnect() -> async with {recv}"
            out.append(facts.site("connect-disconnect", call, message, edits=edits))
            continue
        timeout = _timeout(facts, call)
        extra = ((facts.key(call), WithTimeout(recv, timeout)),) if timeout else ()
        if method == "connect":
            edits = ((facts.key(call), AENTER), *extra)
            out.append(facts.site("connect-disconnect", call, "connect() -> __aenter__()", edits=edits))
            out.extend(_timeout_handlers(facts, call))
        else:
            edits = ((facts.key(call), AEXIT), *extra)
            slug = "force-disconnect" if method == "force_disconnect" else "connect-disconnect"
            out.append(facts.site(slug, call, f"{method}() -> __aexit__(None, None, None)", edits=edits))
    entered = [s for s in out if s.rule == "connect-disconnect" and s.message.startswith("connect() ->")]
    if entered:
        first = next(c for c in calls if c.lineno == entered[0].line and c.col_offset == entered[0].col)
        out.append(
            facts.site(
                "connect-disconnect",
                first,
                f"consider `async with {recv}:` around the connected code",
                finding=True,
                severity=Severity.ADVICE,
            )
        )
    return out


def _problem(facts: Facts, call: ast.Call, method: str, calls: list[ast.Call]) -> str:
    """Why one call cannot be rewritten on its own ("" when it can)."""
    await_node = facts.parents.get(id(call))
    if not isinstance(await_node, ast.Await):
        return f"{method}() is not awaited where it is called"
    if not isinstance(facts.parents.get(id(await_node)), ast.Expr):
        return f"the result of {method}() is used"
    if call.args:
        return f"{method}() is given arguments"
    for kw in call.keywords:
        if kw.arg != "timeout" or method == "force_disconnect":
            return f"{method}() is given {kw.arg or '**'}="
        if isinstance(kw.value, ast.Constant) and kw.value.value is None:
            return f"{method}(timeout=None) waited forever; set Client(timeout=math.inf) or client.timeout"
        if not _default_timeout(facts, call):
            return f"{method}(timeout=) on a client that may set its own timeout; set client.timeout instead"
    if method == "connect":
        loop = _loop_of(facts, call)
        if (
            loop is not None
            and not _leaves_loop(facts, call, loop)
            and not _disconnects_in(facts, call, loop, calls)
        ):
            return "connect() is repeated in a loop that does not disconnect (a reconnect loop: MqttReentrantError)"
    return ""


def _default_timeout(facts: Facts, call: ast.Call) -> bool:
    """Whether the client's own timeout is the default 10 s (asyncio-mqtt had no Client(timeout=))."""
    if facts.old_file:
        return True
    ctors = facts.constructors(call.func.value, call)  # type: ignore[attr-defined]
    return bool(ctors) and all(
        c is not None and all(kw.arg not in ("timeout", None) for kw in c.keywords)
        for c in ctors  # type: ignore[union-attr]
    )


def _timeout(facts: Facts, call: ast.Call) -> str:
    """The code of a connect/disconnect timeout other than the default ("" when there is none)."""
    for kw in call.keywords:
        if kw.arg == "timeout":
            code = facts.src(kw.value)
            return "" if code == DEFAULT_TIMEOUT else code
    return ""


def _statement(facts: Facts, call: ast.Call) -> ast.stmt:
    return facts.parents[id(facts.parents[id(call)])]  # type: ignore[return-value]


def _next_statement(facts: Facts, call: ast.Call) -> ast.stmt | None:
    stmt = _statement(facts, call)
    block = facts.block_of(stmt)
    at = block.index(stmt) if stmt in block else -1
    return block[at + 1] if 0 <= at < len(block) - 1 else None


def _finally_disconnect(facts: Facts, connect: ast.Call) -> ast.Call | None:
    """The disconnect() of `connect(); try: ... finally: disconnect()`, when that is the shape."""
    if _timeout(facts, connect):
        return None
    nxt = _next_statement(facts, connect)
    if not (
        isinstance(nxt, ast.Try)
        and not nxt.handlers
        and not nxt.orelse
        and len(nxt.finalbody) == 1
        and isinstance(nxt.finalbody[0], ast.Expr)
        and isinstance(nxt.finalbody[0].value, ast.Await)
    ):
        return None
    inner = nxt.finalbody[0].value.value
    if not (
        isinstance(inner, ast.Call)
        and isinstance(inner.func, ast.Attribute)
        and inner.func.attr == "disconnect"
        and ast.unparse(inner.func.value) == ast.unparse(connect.func.value)  # type: ignore[attr-defined]
        and not inner.args
        and not _timeout(facts, inner)
        and not any(kw.arg != "timeout" for kw in inner.keywords)
    ):
        return None
    return inner


def _loop_of(facts: Facts, node: ast.AST) -> ast.AST | None:
    cur = facts.parents.get(id(node))
    while cur is not None and not isinstance(cur, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        if isinstance(cur, ast.For | ast.AsyncFor | ast.While):
            return cur
        cur = facts.parents.get(id(cur))
    return None


def _leaves_loop(facts: Facts, call: ast.Call, loop: ast.AST) -> bool:
    """Whether a successful connect() leaves the loop: a retry loop (`break`/`return` after it, or in `else:`)."""
    node: ast.AST = _statement(facts, call)
    while node is not loop:
        parent = facts.parents.get(id(node))
        block = facts.block_of(node)
        after = block[block.index(node) + 1 :] if node in block else []
        for stmt in after:
            if isinstance(stmt, ast.Break | ast.Return | ast.Raise):
                return True
            if isinstance(stmt, ast.Continue):
                return False
        if isinstance(parent, ast.Try) and node in parent.body:
            if any(isinstance(s, ast.Break | ast.Return) for s in parent.orelse):
                return True
        if parent is None:
            return False
        node = parent
    return False


def _disconnects_in(facts: Facts, call: ast.Call, loop: ast.AST, calls: list[ast.Call]) -> bool:
    """Whether the loop also disconnects the client after connecting it (a connect/disconnect pair per pass)."""
    return any(
        c.func.attr in ("disconnect", "force_disconnect")  # type: ignore[attr-defined]
        and (c.lineno, c.col_offset) > (call.lineno, call.col_offset)
        and _loop_of(facts, c) is loop
        for c in calls
    )


def _timeout_handlers(facts: Facts, call: ast.Call) -> list[Site]:
    """An except clause around connect() that expects a timeout as TimeoutError and does not catch MqttError."""
    node: ast.AST = _statement(facts, call)
    parent = facts.parents.get(id(node))
    while parent is not None and not isinstance(parent, ast.FunctionDef | ast.AsyncFunctionDef):
        if isinstance(parent, ast.Try) and node in parent.body:
            names = [_named(facts, t) for h in parent.handlers for t in handler_types(h)]
            bare = any(h.type is None for h in parent.handlers)
            timeouts = [
                h
                for h in parent.handlers
                if any(_named(facts, t).endswith("TimeoutError") for t in handler_types(h))
            ]
            mqtt = any(n.endswith(("MqttError", "MqttCodeError")) or n in CATCH_ALL for n in names)
            if timeouts and not (mqtt or bare):
                message = (
                    "a connect timeout is MqttError('Operation timed out') in aiomqtt 2 (as in asyncio-mqtt 0.16), "
                    "not TimeoutError: this handler does not see it; catch MqttError"
                )
                return [
                    facts.site(
                        "connect-disconnect", timeouts[0], message, finding=True, severity=Severity.ADVICE
                    )
                ]
            return []
        node, parent = parent, facts.parents.get(id(parent))
    return []


def _named(facts: Facts, node: ast.AST) -> str:
    return facts.imports.qualname(node) or ast.unparse(node)
