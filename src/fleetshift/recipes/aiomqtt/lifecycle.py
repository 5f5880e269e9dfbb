"""Client lifecycle (A7): paired `connect()`/`disconnect()` become `async with` or `__aenter__`/`__aexit__`;
plus MqttCodeError handlers around message loops (A10) and paho clients used directly (A2)."""

from __future__ import annotations

import ast

from fleetshift.model import Severity
from fleetshift.recipes.aiomqtt.clients import ClientTracker
from fleetshift.recipes.aiomqtt.plan import CallOp


class LifecycleChecks(ClientTracker):
    """Connect/disconnect pairs, disconnect error handlers and direct paho use."""

    def check_connect_pairs(self) -> None:
        groups: dict[tuple[int, str], list[tuple[ast.Call, str]]] = {}
        for node in ast.walk(self.tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            method = node.func.attr
            if method not in ("connect", "disconnect") or not self.known(node.func.value, node):
                continue
            scope = self._scope_for(node.func.value, node)
            groups.setdefault((scope or 0, ast.unparse(node.func.value)), []).append((node, method))
        for (_scope, recv), calls in groups.items():
            calls.sort(key=lambda c: (c[0].lineno, c[0].col_offset))
            problem = self._pair_problem(calls)
            if problem:
                for call, method in calls:
                    self.human(
                        "connect-manual",
                        call,
                        f"{recv}.{method}(): not rewritten ({problem}). {self.rule_fix('connect-manual')}",
                    )
                continue
            for i in range(0, len(calls), 2):
                self._rewrite_pair(calls[i][0], calls[i + 1][0], recv)

    def _pair_problem(self, calls: list[tuple[ast.Call, str]]) -> str:
        methods = [m for _, m in calls]
        if len(methods) % 2 or methods != ["connect", "disconnect"] * (len(methods) // 2):
            return "connect() and disconnect() do not come in pairs"
        for call, method in calls:
            await_node = self.parents.get(id(call))
            if not (
                isinstance(await_node, ast.Await) and isinstance(self.parents.get(id(await_node)), ast.Expr)
            ):
                return f"the result of {method}() is used"
            for kw in call.keywords:
                if not (kw.arg == "timeout" and isinstance(kw.value, ast.Constant) and kw.value.value == 10):
                    return f"{method}() is given {kw.arg or '**'}=; set Client(timeout=...) instead"
            if call.args:
                return f"{method}() is given arguments"
        for i in range(0, len(calls), 2):
            if self._loop_of(calls[i][0]) is not self._loop_of(calls[i + 1][0]):
                return "connect() and disconnect() sit in different loops (a reconnect loop)"
        return ""

    def _loop_of(self, node: ast.AST) -> ast.AST | None:
        cur = self.parents.get(id(node))
        while cur is not None and not isinstance(cur, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if isinstance(cur, ast.For | ast.AsyncFor | ast.While):
                return cur
            cur = self.parents.get(id(cur))
        return None

    def _rewrite_pair(self, connect: ast.Call, disconnect: ast.Call, recv: str) -> None:
        stmt = self.parents[id(self.parents[id(connect)])]
        block = self._block_of(stmt)
        nxt = (
            block[block.index(stmt) + 1]
            if block and stmt in block and block.index(stmt) + 1 < len(block)
            else None
        )
        if (
            isinstance(nxt, ast.Try)
            and not nxt.handlers
            and not nxt.orelse
            and len(nxt.finalbody) == 1
            and isinstance(nxt.finalbody[0], ast.Expr)
            and nxt.finalbody[0].value is self.parents.get(id(disconnect))
        ):
            self.mark(
                "connect-disconnect", connect, f"connect()/try/finally disconnect() -> async with {recv}"
            )
            self.plan.try_to_with[self.key(nxt)] = recv
            self.plan.drop_stmts.add(self.key(connect))
            return
        self.mark("connect-disconnect", connect, "connect() -> __aenter__()")
        self.mark("connect-disconnect", disconnect, "disconnect() -> __aexit__(None, None, None)")
        self.add_call_op(connect, CallOp("method", "__aenter__", ""))
        self.add_call_op(disconnect, CallOp("method", "__aexit__", "None, None, None"))
        self.mark(
            "connect-disconnect",
            connect,
            f"consider `async with {recv}:` around the connected code",
            finding=True,
            severity=Severity.ADVICE,
        )

    def _block_of(self, stmt: ast.AST) -> list[ast.stmt]:
        parent = self.parents.get(id(stmt))
        for name in ("body", "orelse", "finalbody", "handlers"):
            block = getattr(parent, name, None)
            if isinstance(block, list) and stmt in block:
                return block
        return []

