"""Message consumption (A5/A6): `filtered_messages()`/`unfiltered_messages()`/`messages()` context managers
become the client-wide `client.messages` iterator where one consumer reads one client; otherwise a Finding."""

from __future__ import annotations

import ast
from collections import Counter

from fleetshift.recipes.aiomqtt.clients import ClientTracker
from fleetshift.recipes.aiomqtt.overlap import call_stats, may_overlap
from fleetshift.recipes.aiomqtt.plan import CallOp, ForOp
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


class MessageChecks(ClientTracker):
    """Message loops: rewritten when the consumer is alone on its client, reported otherwise."""

    def check_message_sites(self) -> None:
        sites: list[tuple[ast.AST, ast.Call, str]] = []
        context_calls: set[int] = set()
        for node in ast.walk(self.tree):
            if isinstance(node, ast.AsyncWith):
                for item in node.items:
                    call = item.context_expr
                    if self.message_call(call, node, in_with=True):
                        sites.append((node, call, call.func.attr))  # type: ignore[union-attr,attr-defined]
                        context_calls.add(id(call))
            elif (
                isinstance(node, ast.AsyncFor)
                and isinstance(node.iter, ast.Attribute)
                and node.iter.attr == "messages"
            ):
                if self.known(node.iter.value, node):
                    sites.append((node, node.iter, "iterator"))  # type: ignore[arg-type]
        for node in ast.walk(self.tree):
            if (
                isinstance(node, ast.Call)
                and id(node) not in context_calls
                and self.message_call(node, node)
            ):
                self.human(
                    "messages-manual",
                    node,
                    f"{ast.unparse(node.func)}() outside a plain `async with`: aiomqtt 2 has one client-wide `client.messages` iterator; restructure by hand.",
                )
        per_client = Counter(self._client_identity(call, node) for node, call, _ in sites)
        for node, call, kind in sites:
            several = per_client[self._client_identity(call, node)] > 1
            if kind == "iterator":
                if several:
                    self.human("shared-message-queue", node)
                continue
            func = self.func_of(node)
            fname = getattr(func, "name", "")
            concurrent = self._overlaps(func, fname)
            if several or concurrent:
                why = (
                    "several message consumers of one client"
                    if several
                    else f"{fname}() may run more than once at a time"
                )
                self.human("shared-message-queue", node, f"{why}: {self.rule_fix('shared-message-queue')}")
                continue
            self.convert_message_site(node, call, kind)  # type: ignore[arg-type]

    def _overlaps(self, func: ast.AST | None, name: str) -> bool:
        """Whether the function holding a site may run twice at once; a nested one judged within its parent."""
        if not name:
            return False
        parent = self.func_of(func)
        if isinstance(parent, ast.FunctionDef | ast.AsyncFunctionDef):
            return may_overlap(call_stats(parent), name)
        return may_overlap(self.stats, name)

    def _client_identity(self, call: ast.AST, at: ast.AST) -> tuple[object, ...]:
        """Which client a message site reads from; unknown clients are presumed to be one shared client."""
        recv = call.func.value if isinstance(call, ast.Call) else call.value  # type: ignore[attr-defined]
        ctors = self.constructors(recv, at)
        if ctors and len(ctors) == 1 and ctors[0] is not None:
            return ("ctor", id(ctors[0]))
        return ("unknown",)

    def convert_message_site(self, node: ast.AsyncWith, call: ast.Call, kind: str) -> None:
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
            if len(loops) != 1 or uses != 1 or self.func_of(loops[0]) is not self.func_of(node):
                problem = f"`{target.id}` is used other than by one `async for` in the block"
        filter_node: ast.AST | None = call.args[0] if kind == "filtered_messages" and call.args else None
        queue_kwargs: dict[str, ast.expr] = {}
        for kw in call.keywords:
            if kw.arg == "topic_filter" and kind == "filtered_messages":
                filter_node = kw.value
            elif kw.arg in ("queue_maxsize", "queue_class"):
                if not (
                    kw.arg == "queue_maxsize" and isinstance(kw.value, ast.Constant) and kw.value.value == 0
                ):
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
            problem, topic_edits, escapes = self._plain_message_uses(loop)
        ctor: ast.Call | None = None
        if not problem and queue_kwargs:
            ctors = self.constructors(recv, node)
            if not ctors or len(ctors) != 1 or ctors[0] is None:
                problem = "queue_maxsize/queue_class need the Client constructor, which is not in this scope"
            else:
                ctor = ctors[0]
                if any(kw.arg in QUEUE_KWARGS.values() or kw.arg is None for kw in ctor.keywords):
                    problem = "the Client constructor already sets the incoming queue"
        if problem or loop is None:
            self.human(
                "messages-manual",
                node,
                f"{ast.unparse(func)}(): not rewritten ({problem}). {self.rule_fix('messages-manual')}",
            )
            return
        self.mark("messages-iterator", node, f"{ast.unparse(func)}() -> {ast.unparse(recv)}.messages")
        self.plan.flatten_with.add(self.key(node))
        loop_target = loop.target.id if isinstance(loop.target, ast.Name) else ""
        self.plan.for_ops[self.key(loop)] = ForOp(
            f"{self.src(recv)}.messages",
            loop_target,
            self.src(filter_node) if filter_node is not None else None,
        )
        if ctor is not None:
            for arg, value in queue_kwargs.items():
                self.mark("incoming-queue-args", value, f"{arg}= -> Client({QUEUE_KWARGS[arg]}=)")
                self.add_call_op(ctor, CallOp("add", QUEUE_KWARGS[arg], self.src(value)))
        for attr in topic_edits:
            self.mark("topic-value", attr, "message.topic is a Topic, not str")
            self.plan.attr_ops[self.key(attr)] = "+value"
        if escapes:
            self.human(
                "message-type",
                loop,
                f"`{loop_target}` is passed on: it is now an aiomqtt Message whose .topic is a Topic (use .topic.value for the string); check its consumers.",
            )

    def _plain_message_uses(self, loop: ast.AsyncFor) -> tuple[str, list[ast.Attribute], bool]:
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
                    parent = self.parents.get(id(n))
                    if not isinstance(parent, ast.Attribute):
                        escapes = True
                    elif parent.attr in PAHO_ONLY_ATTRS:
                        return f"it reads paho-only message attribute .{parent.attr}", [], False
                    elif parent.attr == "topic" and self._topic_needs_value(parent):
                        edits.append(parent)
        return "", edits, escapes

    def _topic_needs_value(self, attr: ast.Attribute) -> bool:
        parent = self.parents.get(id(attr))
        if isinstance(parent, ast.Attribute):
            return parent.attr not in ("value", "matches")
        if isinstance(parent, ast.FormattedValue):
            return False
        if isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.Mod) and attr is parent.right:
            return False
        if isinstance(parent, ast.Tuple) and isinstance(self.parents.get(id(parent)), ast.BinOp):
            return False
        if isinstance(parent, ast.Call) and attr in parent.args:
            name = callee_name(parent.func)
            if name in STR_SAFE_CALLS or name in LOG_METHODS:
                return False
        return True
