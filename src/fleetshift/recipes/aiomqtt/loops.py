"""Message consumption (A5/A6), shared by six rules: `filtered_messages()`/`unfiltered_messages()`/`messages()`
contexts become the client-wide `client.messages` iterator where one consumer reads one client; otherwise a
Finding says why not.

`message_sites(facts)` judges every message stream of a file once (cached per file) and returns the sites
of messages-iterator (with the loop edits), messages-router (streams entered on an AsyncExitStack),
incoming-queue-args (the constructor keywords), topic-value (`.value` reads), message-type,
messages-manual and shared-message-queue; each of those rule modules
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
ROUTER_NAMES = frozenset(
    {"MessageRouter", "filtered_messages", "unfiltered_messages"}
)  # what the router adds


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
    for node in facts.of(ast.AsyncWith, ast.AsyncFor):
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
    for node in facts.of(ast.Call):
        if isinstance(node, ast.Call) and id(node) not in context_calls and facts.message_call(node, node):
            routed = _routed(facts, node)
            if routed:
                out.extend(routed)
                continue
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


@dataclass(frozen=True)
class Route:
    """Replace a message-stream call by `<helper>(<receiver>[, <filter>])`, a stream of the module's router."""

    code: str


def _routed(facts: Facts, call: ast.Call) -> list[Site]:
    """A stream entered on an AsyncExitStack (`await stack.enter_async_context(client.filtered_messages(f))`,
    directly or through a name): read from one router over client.messages instead, its consumers untouched."""
    func = call.func
    assert isinstance(func, ast.Attribute)
    entered, bound = _entered(facts, call)
    if entered is None:
        return []
    kind, recv = func.attr, func.value
    problem = ""
    if ROUTER_NAMES & set(facts.imports.names) or any(
        isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and n.name in ROUTER_NAMES
        for n in facts.tree.body
    ):
        problem = f"the module already defines one of {', '.join(sorted(ROUTER_NAMES))}"
    elif not isinstance(recv, ast.Name | ast.Attribute):
        problem = "the client is not a plain name"
    filter_node = (
        call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "topic_filter"), None)
    )
    wanted = 1 if kind == "filtered_messages" else 0
    if not problem and (len(call.args) + len(call.keywords) != wanted or (wanted and filter_node is None)):
        problem = "arguments other than the topic filter (queue_maxsize/queue_class need Client(...))"
    if problem:
        message = f"{ast.unparse(func)}(): not rewritten ({problem}). {fix_text('messages-manual')}"
        return [facts.human("messages-manual", call, message)]
    helper = "filtered_messages" if kind == "filtered_messages" else "unfiltered_messages"
    args = ", ".join([facts.src(recv), *([facts.src(filter_node)] if filter_node is not None else [])])
    message = f"{ast.unparse(func)}() on an AsyncExitStack -> {helper}({args}), one router over {ast.unparse(recv)}.messages"
    out = [
        facts.site("messages-router", call, message, edits=((facts.key(call), Route(f"{helper}({args})")),))
    ]
    if kind != "messages" and bound is not None:
        out.extend(_consumers(facts, entered, bound))
    return out


def _entered(facts: Facts, call: ast.Call) -> tuple[ast.AST | None, str | None]:
    """The awaited enter_async_context(...) that enters `call` (directly or through a local name), and the
    name its stream is bound to; (None, None) when the call is not used that way."""
    parent = facts.parents.get(id(call))
    if (
        isinstance(parent, ast.Assign)
        and len(parent.targets) == 1
        and isinstance(parent.targets[0], ast.Name)
    ):
        name = parent.targets[0].id
        scope = facts.func_of(parent) or facts.tree
        uses = [
            n
            for n in ast.walk(scope)
            if isinstance(n, ast.Name) and n.id == name and n is not parent.targets[0]
        ]
        if len(uses) != 1:
            return None, None
        call_arg: ast.AST = uses[0]
    else:
        call_arg = call
    enter = facts.parents.get(id(call_arg))
    if not (
        isinstance(enter, ast.Call)
        and isinstance(enter.func, ast.Attribute)
        and enter.func.attr == "enter_async_context"
        and enter.args[:1] == [call_arg]
        and isinstance(facts.parents.get(id(enter)), ast.Await)
    ):
        return None, None
    stmt = facts.parents.get(id(facts.parents[id(enter)]))
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
        return stmt, stmt.targets[0].id
    return stmt, None


def _consumers(facts: Facts, stmt: ast.AST, name: str) -> list[Site]:
    """The `.topic.value` edits in the loops that read a routed filtered/unfiltered stream (now aiomqtt
    Messages, whose topic is a Topic): in the function that binds it, or in a module function it is handed to."""
    scope = facts.func_of(stmt) or facts.tree
    loops: list[ast.AsyncFor] = []
    escapes: list[ast.AST] = []
    for n in ast.walk(scope):
        if not (isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)):
            continue
        parent = facts.parents.get(id(n))
        if isinstance(parent, ast.AsyncFor) and parent.iter is n:
            loops.append(parent)
        elif isinstance(parent, ast.Call) and (found := _handler_loops(facts, parent, n)) is not None:
            loops.extend(found)
        else:
            escapes.append(n)
    out: list[Site] = []
    for loop in loops:
        problem, topic_edits, _passed_on = _plain_message_uses(facts, loop)
        if problem:
            escapes.append(loop)
            continue
        for attr in topic_edits:
            out.append(
                facts.site(
                    "topic-value",
                    attr,
                    "message.topic is a Topic, not str",
                    edits=((facts.key(attr), "+value"),),
                )
            )
    for n in escapes:
        message = (
            f"`{name}` yields aiomqtt Messages now (their .topic is a Topic: use .topic.value for the string; "
            ".timestamp/.dup/.state/.info are gone); check the code that reads it."
        )
        out.append(facts.human("message-type", n, message))
    return out


def _handler_loops(facts: Facts, call: ast.Call, arg: ast.Name) -> list[ast.AsyncFor] | None:
    """The loops over the parameter that receives `arg` in the module function (or method of the same class) called."""
    func = call.func
    if isinstance(func, ast.Name):
        defs = [
            n
            for n in facts.tree.body
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == func.id
        ]
    elif (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id in ("self", "cls")
    ):
        cls = facts.class_of(call)
        defs = [
            n
            for n in (cls.body if cls is not None else [])
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == func.attr
        ]
    else:
        return None
    if len(defs) != 1:
        return None
    params = [a.arg for a in [*defs[0].args.posonlyargs, *defs[0].args.args]]
    if isinstance(func, ast.Attribute) and params:
        is_static = any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in defs[0].decorator_list)
        params = params if is_static else params[1:]
    if arg in call.args:
        at = call.args.index(arg)
        if any(isinstance(a, ast.Starred) for a in call.args[: at + 1]) or at >= len(params):
            return None
        param = params[at]
    else:
        param = next((k.arg for k in call.keywords if k.value is arg), None)
        if param is None:
            return None
    loops = [
        n
        for n in ast.walk(defs[0])
        if isinstance(n, ast.AsyncFor) and isinstance(n.iter, ast.Name) and n.iter.id == param
    ]
    uses = [n for n in ast.walk(defs[0]) if isinstance(n, ast.Name) and n.id == param]
    return loops if loops and len(uses) == len(loops) else None


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
