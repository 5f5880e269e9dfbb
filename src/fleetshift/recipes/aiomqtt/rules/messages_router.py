"""filtered_messages()/unfiltered_messages()/messages() entered on an AsyncExitStack, one consumer per stream

Each stream becomes filtered_messages(client, f)/unfiltered_messages(client) of a small router the rewrite
adds to the module: one task reads client.messages and gives every stream, in arrival order, the messages
whose topic matches its filter (the unfiltered streams those that match none), so the consumers keep their
own queues and tasks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fleetshift.recipes.aiomqtt.edits import PlannedFix
from fleetshift.recipes.aiomqtt.facts import Facts, Site
from fleetshift.recipes.aiomqtt.loops import Route, sites_of
from fleetshift.recipes.aiomqtt.rules import GUIDE
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    import libcst as cst

RULE = rule(__name__, __doc__, AUTO, since="2.0.0", link=GUIDE, order=5)

ROUTER = '''

class MessageRouter:
    """One reader of `client.messages` for several consumers, as asyncio-mqtt's filtered_messages() and
    unfiltered_messages() were: each stream gets, in arrival order, the messages whose topic matches its
    filter; an unfiltered stream gets those that match no filter."""

    routers = weakref.WeakKeyDictionary()

    def __init__(self, client):
        self.client = client
        self.streams = []  # [topic filter or None, queue], in the order they were opened
        self.reader = None

    @classmethod
    def of(cls, client):
        if client not in cls.routers:
            cls.routers[client] = cls(client)
        return cls.routers[client]

    async def read(self):
        try:
            async for message in self.client.messages:
                matched = [q for f, q in self.streams if f is not None and message.topic.matches(f)]
                for queue in matched or [q for f, q in self.streams if f is None]:
                    queue.put_nowait(message)
        except Exception as exc:  # the connection is gone: every stream raises it
            for _, queue in self.streams:
                queue.put_nowait(exc)
            raise

    @contextlib.asynccontextmanager
    async def stream(self, topic_filter=None):
        entry = [topic_filter, asyncio.Queue()]
        self.streams.append(entry)
        if self.reader is None or self.reader.done():
            self.reader = asyncio.get_running_loop().create_task(self.read())
        try:
            yield self.drain(entry[1])
        finally:
            self.streams.remove(entry)
            if not self.streams:
                reader, self.reader = self.reader, None
                reader.cancel()
                await asyncio.gather(reader, return_exceptions=True)

    @staticmethod
    async def drain(queue):
        while True:
            item = await queue.get()
            if isinstance(item, Exception):
                raise item
            yield item


def filtered_messages(client, topic_filter):
    """The messages of `client` whose topic matches `topic_filter` (an async context manager)."""
    return MessageRouter.of(client).stream(topic_filter)


def unfiltered_messages(client):
    """The messages of `client` that match none of its open filtered_messages() (an async context manager)."""
    return MessageRouter.of(client).stream()
'''


def check(facts: Facts) -> list[Site]:
    """Message streams entered on an AsyncExitStack (judged with the other stream rules, in loops)."""
    return sites_of(facts, "messages-router")


class Fix(PlannedFix):
    """Route each stream through the module's router, which is added once after the imports."""

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        import libcst as cst

        route = self.first(original, Route)
        if route is None:
            return updated
        return cst.parse_expression(route.code).with_changes(lpar=updated.lpar, rpar=updated.rpar)

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        if not self.edits:
            return updated
        import libcst as cst
        from libcst.codemod import CodemodContext
        from libcst.codemod.visitors import AddImportsVisitor

        body = list(updated.body)
        last_import = max(
            (
                i
                for i, stmt in enumerate(body)
                if isinstance(stmt, cst.SimpleStatementLine)
                and any(isinstance(s, cst.Import | cst.ImportFrom) for s in stmt.body)
            ),
            default=-1,
        )
        if last_import < 0 and body and _is_docstring(body[0]):
            last_import = 0  # no import: the router goes after the module's docstring
        helper = list(cst.parse_module(ROUTER).body)
        helper[0] = helper[0].with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()])
        if last_import + 1 < len(body):
            nxt = body[last_import + 1]
            body[last_import + 1] = nxt.with_changes(
                leading_lines=[
                    cst.EmptyLine(),
                    cst.EmptyLine(),
                    *[line for line in nxt.leading_lines if line.comment is not None],
                ]
            )
        module = updated.with_changes(body=[*body[: last_import + 1], *helper, *body[last_import + 1 :]])
        context = CodemodContext()
        for name in ("asyncio", "contextlib", "weakref"):
            AddImportsVisitor.add_needed_import(context, name)
        return AddImportsVisitor(context).transform_module(module)


def _is_docstring(stmt: object) -> bool:
    import libcst as cst

    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and len(stmt.body) == 1
        and isinstance(stmt.body[0], cst.Expr)
        and isinstance(stmt.body[0].value, cst.SimpleString | cst.ConcatenatedString)
    )
