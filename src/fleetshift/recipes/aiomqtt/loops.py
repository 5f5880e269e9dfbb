"""Message consumption (A5/A6), shared by six rules: `filtered_messages()`/`unfiltered_messages()`/`messages()`
contexts become the client-wide `client.messages` iterator where one consumer reads one client; otherwise a
Finding says why not.

`message_sites(facts)` judges every message stream of a file once (cached per file) and returns the sites
of messages-iterator (with the loop edits), incoming-queue-args (the constructor keywords), topic-value
(`.value` reads), message-type, messages-manual and shared-message-queue; each of those rule modules
reports its own share and its Fix makes its own edits.
"""

from __future__ import annotations

import ast
from collections import Counter
from dataclasses import dataclass, replace
from functools import lru_cache

from fleetshift.recipes.aiomqtt.edits import CallOp
from fleetshift.recipes.aiomqtt.facts import Facts, Key, Site, fix_text
from fleetshift.recipes.aiomqtt.overlap import call_stats, may_overlap
from fleetshift.recipes.aiomqtt.tree import callee_name

MESSAGE_METHODS = ("messages", "filtered_messages", "unfiltered_messages")
PAHO_ONLY_ATTRS = frozenset({"timestamp", "dup", "state", "info"})
LOG_METHODS = frozenset(
    {"debug", "info", "warning", "warn", "error", "exception", "critical", "log", "print"}
)
STR_SAFE_CALLS = frozenset({"str", "repr", "print", "format"})
QUEUE_KWARGS = {
    "queue_maxsize": "max_queued_incoming_messages",
    "queue_class": "queue_type",
}  # -> Client(...)
FLATTEN = "flatten"  # the edit of an `async with` whose body replaces it


@dataclass(frozen=True)
class ForOp:
    """Turn `async for m in M` into `async for m in <iter_code>`, optionally guarding the body by a filter."""

    iter_code: str
    target: str
    filter_code: str | None = None


def sites_of(facts: Facts, slug: str) -> list[Site]:
    """The message-stream sites of one rule."""
    return [s for s in message_sites(facts) if s.rule == slug]


@lru_cache(maxsize=32)
def message_sites(facts: Facts) -> tuple[Site, ...]:
    """Every message-stream site of a file, in report order."""
    out: list[Site] = []
    sites: list[tuple[ast.AST, ast.AST, str]] = []
    context_calls: set[int] = set()
    for node in ast.walk(facts.tree):
        if isinstance(node, ast.AsyncWith):
            for item in node.items:
                call = item.context_expr
                if facts.message_call(call, node, in_with=True):
                    sites.append((node, call, call.func.attr))  # type: ignore[attr-defined]
                    context_calls.add(id(call))
        elif (
            isinstance(node, ast.AsyncFor)
            and isinstance(node.iter, ast.Attribute)
            and node.iter.attr == "messages"
        ):
            if facts.known(node.iter.value, node):
                sites.append((node, node.iter, "iterator"))
    for node in ast.walk(facts.tree):
        if isinstance(node, ast.Call) and id(node) not in context_calls and facts.message_call(node, node):
            out.append(
                facts.human(
                    "messages-manual",
                    node,
                    f"{ast.unparse(node.func)}() outside a plain `async with`: aiomqtt 2 has one client-wide `client.messages` iterator; restructure by hand.",
                )
            )
    per_client = Counter(_client_identity(facts, call, node) for node, call, _ in sites)
    for node, call, kind in sites:
        several = per_client[_client_identity(facts, call, node)] > 1
        if kind == "iterator":
            if several:
                out.append(facts.human("shared-message-queue", node))
            continue
        func = facts.func_of(node)
        fname = getattr(func, "name", "")
        if several or _overlaps(facts, func, fname):
            why = (
                "several message consumers of one client"
                if several
                else f"{fname}() may run more than once at a time"
            )
            out.append(
                facts.human("shared-message-queue", node, f"{why}: {fix_text('shared-message-queue')}")
            )
            continue
        assert isinstance(node, ast.AsyncWith) and isinstance(call, ast.Call)
        out.extend(_convert(facts, node, call, kind))
    return tuple(replace(s, order=(i,)) for i, s in enumerate(out))


def _overlaps(facts: Facts, func: ast.AST | None, name: str) -> bool:
    """Whether the function holding a site may run twice at once; a nested one judged within its parent."""
    if not name:
        return False
    parent = facts.func_of(func) if func is not None else None
    if isinstance(parent, ast.FunctionDef | ast.AsyncFunctionDef):
        return may_overlap(call_stats(parent, facts.imports), name)
    return may_overlap(facts.stats, name)


def _client_identity(facts: Facts, call: ast.AST, at: ast.AST) -> tuple[object, ...]:
    """Which client a message site reads from; unknown clients are presumed to be one shared client."""
    recv = call.func.value if isinstance(call, ast.Call) else call.value  # type: ignore[attr-defined]
    ctors = facts.constructors(recv, at)
    if ctors and len(ctors) == 1 and ctors[0] is not None:
        return ("ctor", id(ctors[0]))
    return ("unknown",)


def _convert(facts: Facts, node: ast.AsyncWith, call: ast.Call, kind: str) -> list[Site]:
    func = call.func
    assert isinstance(func, ast.Attribute)
    recv, target = func.value, node.items[0].optional_vars if len(node.items) == 1 else None
    problem = ""
    if len(node.items) != 1:
        problem = "several context managers in one `async with`"
    elif not isinstance(target, ast.Name):
        problem = "the message stream is not bound to a plain name"
    loops: list[ast.AsyncFor] = []
    if not problem:
        assert isinstance(target, ast.Name)
        inner = [n for s in node.body for n in ast.walk(s)]
        loops = [
            n
            for n in inner
            if isinstance(n, ast.AsyncFor) and isinstance(n.iter, ast.Name) and n.iter.id == target.id
        ]
        uses = sum(1 for n in inner if isinstance(n, ast.Name) and n.id == target.id)
        if len(loops) != 1 or uses != 1 or facts.func_of(loops[0]) is not facts.func_of(node):
            problem = f"`{target.id}` is used other than by one `async for` in the block"
    filter_node: ast.AST | None = call.args[0] if kind == "filtered_messages" and call.args else None
    queue_kwargs: dict[str, ast.expr] = {}
    for kw in call.keywords:
        if kw.arg == "topic_filter" and kind == "filtered_messages":
            filter_node = kw.value
        elif kw.arg in ("queue_maxsize", "queue_class"):
            if not (kw.arg == "queue_maxsize" and isinstance(kw.value, ast.Constant) and kw.value.value == 0):
                queue_kwargs[kw.arg] = kw.value
        else:
            problem = problem or f"unexpected argument {kw.arg or '**'}="
    if (kind == "filtered_messages" and (filter_node is None or len(call.args) > 1)) or (
        kind != "filtered_messages" and call.args
    ):
        problem = problem or "unexpected positional arguments"
    loop = loops[0] if loops else None
    topic_edits: list[ast.Attribute] = []
    escapes = False
    if not problem and loop is not None and kind != "messages":
        problem, topic_edits, escapes = _plain_message_uses(facts, loop)
    ctor: ast.Call | None = None
    if not problem and queue_kwargs:
        ctors = facts.constructors(recv, node)
        if not ctors or len(ctors) != 1 or ctors[0] is None:
            problem = "queue_maxsize/queue_class need the Client constructor, which is not in this scope"
        else:
            ctor = ctors[0]
            if any(kw.arg in QUEUE_KWARGS.values() or kw.arg is None for kw in ctor.keywords):
                problem = "the Client constructor already sets the incoming queue"
    if problem or loop is None:
        return [
            facts.human(
                "messages-manual",
                node,
                f"{ast.unparse(func)}(): not rewritten ({problem}). {fix_text('messages-manual')}",
            )
        ]
    loop_target = loop.target.id if isinstance(loop.target, ast.Name) else ""
    op = ForOp(
        f"{facts.src(recv)}.messages",
        loop_target,
        facts.src(filter_node) if filter_node is not None else None,
    )
    edits: tuple[tuple[Key, object], ...] = ((facts.key(node), FLATTEN), (facts.key(loop), op))
    out = [
        facts.site(
            "messages-iterator", node, f"{ast.unparse(func)}() -> {ast.unparse(recv)}.messages", edits=edits
        )
    ]
    if ctor is not None:
        for arg, value in queue_kwargs.items():
            add = CallOp("add", QUEUE_KWARGS[arg], facts.src(value))
            out.append(
                facts.site(
                    "incoming-queue-args",
                    value,
                    f"{arg}= -> Client({QUEUE_KWARGS[arg]}=)",
                    edits=((facts.key(ctor), add),),
                )
            )
    for attr in topic_edits:
        out.append(
            facts.site(
                "topic-value", attr, "message.topic is a Topic, not str", edits=((facts.key(attr), "+value"),)
            )
        )
    if escapes:
        out.append(
            facts.human(
                "message-type",
                loop,
                f"`{loop_target}` is passed on: it is now an aiomqtt Message whose .topic is a Topic (use .topic.value for the string); check its consumers.",
            )
        )
    return out


def _plain_message_uses(facts: Facts, loop: ast.AsyncFor) -> tuple[str, list[ast.Attribute], bool]:
    """For a loop over paho messages: the `m.topic` uses to turn into strings, or why it cannot be done."""
    if not isinstance(loop.target, ast.Name):
        return "the loop target is not a plain name", [], False
    name = loop.target.id
    edits: list[ast.Attribute] = []
    escapes = False
    for stmt in [*loop.body, *loop.orelse]:
        for n in ast.walk(stmt):
            if isinstance(n, ast.Name) and n.id == name:
                if not isinstance(n.ctx, ast.Load):
                    return f"`{name}` is reassigned in the loop", [], False
                parent = facts.parents.get(id(n))
                if not isinstance(parent, ast.Attribute):
                    escapes = True
                elif parent.attr in PAHO_ONLY_ATTRS:
                    return f"it reads paho-only message attribute .{parent.attr}", [], False
                elif parent.attr == "topic" and _topic_needs_value(facts, parent):
                    edits.append(parent)
    return "", edits, escapes


def _topic_needs_value(facts: Facts, attr: ast.Attribute) -> bool:
    parent = facts.parents.get(id(attr))
    if isinstance(parent, ast.Attribute):
        return parent.attr not in ("value", "matches")
    if isinstance(parent, ast.FormattedValue):
        return False
    if isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.Mod) and attr is parent.right:
        return False
    if isinstance(parent, ast.Tuple) and isinstance(facts.parents.get(id(parent)), ast.BinOp):
        return False
    if isinstance(parent, ast.Call) and attr in parent.args:
        name = callee_name(parent.func)
        if name in STR_SAFE_CALLS or name in LOG_METHODS:
            return False
    return True
