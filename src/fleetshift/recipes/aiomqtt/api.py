"""Renamed API: imports, module attribute chains and patch strings (A1); Client keywords, `.id`, timeouts,
result and return-code comparisons, private paho access, and Clients built outside a running loop."""

from __future__ import annotations

import ast

from fleetshift.model import Severity
from fleetshift.recipes.aiomqtt import names as N
from fleetshift.recipes.aiomqtt.clients import ClientTracker
from fleetshift.recipes.aiomqtt.plan import CallOp
from fleetshift.recipes.aiomqtt.tree import callee_name, const_none, handler_types

PATCH_CALLS = frozenset({"patch", "setattr", "delattr", "import_module"})


class ApiChecks(ClientTracker):
    """Sites of renamed imports, keywords and attributes."""

    def check_imports(self) -> None:
        module_aliases: dict[str, str] = {}
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name == N.OLD_PACKAGE or alias.name.startswith(
                        (N.OLD_PACKAGE + ".", "aiomqtt.error")
                    ):
                        self.mark("imports", node, f"import {alias.name}")
                    if alias.asname:
                        if alias.name in (N.OLD_PACKAGE, N.NEW_PACKAGE):
                            module_aliases[alias.asname] = alias.name
                    elif alias.name.split(".")[0] in (N.OLD_PACKAGE, N.NEW_PACKAGE):
                        top = alias.name.split(".")[0]
                        module_aliases[top] = top
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = tuple(a.name for a in node.names)
                if N.is_old_module(node.module, names):
                    self.mark("imports", node, f"from {node.module} import {', '.join(names)}")
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Attribute) and not isinstance(self.parents.get(id(node)), ast.Attribute):
                self._chain(node, module_aliases)
            elif isinstance(node, ast.Name) and node.id == N.OLD_PACKAGE and N.OLD_PACKAGE in module_aliases:
                if not isinstance(self.parents.get(id(node)), ast.Attribute):
                    self.plan.name_ops[self.key(node)] = N.NEW_PACKAGE
            elif (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and N.is_old_patch_target(node.value)
            ):
                parent = self.parents.get(id(node))
                if (
                    isinstance(parent, ast.Call)
                    and callee_name(parent.func) in PATCH_CALLS
                    and node in parent.args[:1]
                ):
                    self.mark("imports", node, f"patch target {node.value!r}")
                    self.plan.string_ops[self.key(node)] = N.patch_target(node.value)
                elif node.value.startswith(N.OLD_PACKAGE):
                    self.human(
                        "imports",
                        node,
                        f"string {node.value!r} names the old asyncio_mqtt module; it is {N.patch_target(node.value)!r} in aiomqtt 2.x.",
                    )

    def _chain(self, node: ast.Attribute, module_aliases: dict[str, str]) -> None:
        parts: list[str] = []
        root: ast.AST = node
        while isinstance(root, ast.Attribute):
            parts.append(root.attr)
            root = root.value
        if not isinstance(root, ast.Name) or root.id not in module_aliases:
            return
        parts.reverse()
        module = module_aliases[root.id]
        new_root = N.NEW_PACKAGE if root.id == N.OLD_PACKAGE else root.id
        new = N.new_dotted(".".join([module, *parts]))
        rest = new.split(".")[1:]
        code = ".".join([new_root, *rest])
        if code != self.src(node) and code != ast.unparse(node):
            self.mark("imports", node, f"{ast.unparse(node)} -> {code}")
            self.plan.attr_ops[self.key(node)] = "=" + code

    def check_calls(self) -> None:
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Call):
                if self.is_client_call(node):
                    self.check_constructor(node)
                elif isinstance(node.func, ast.Attribute):
                    self.check_method_call(node, node.func)
            elif isinstance(node, ast.Attribute) and node.attr == "id" and isinstance(node.ctx, ast.Load):
                if self.known(node.value, node):
                    self.mark("client-identifier", node, "client.id -> client.identifier")
                    self.plan.attr_ops[self.key(node)] = "identifier"
                elif any(w in ast.unparse(node.value).lower() for w in ("client", "mqtt")):
                    self.human(
                        "client-identifier",
                        node,
                        f"{ast.unparse(node)}: if this is an MQTT Client, it is .identifier in aiomqtt 2 (the receiver could not be resolved).",
                    )
            elif isinstance(node, ast.Attribute) and node.attr == "_client" and self.known(node.value, node):
                parent = self.parents.get(id(node))
                method = parent.attr if isinstance(parent, ast.Attribute) else ""
                if method == "tls_insecure_set":
                    self.human(
                        "tls-insecure",
                        node,
                        "client._client.tls_insecure_set(...): use Client(..., tls_insecure=True) (aiomqtt>=1.1); never run it on aiomqtt 2.5.0.",
                    )
                else:
                    self.human("private-paho", node)
            elif isinstance(node, ast.Compare):
                self.check_compare(node)

    def check_constructor(self, call: ast.Call) -> None:
        for kw in call.keywords:
            if kw.arg is None:
                self.human("client-kwargs-dynamic", call)
            elif kw.arg == "client_id":
                self.mark("client-identifier", kw, "client_id= -> identifier=")
                self.add_call_op(call, CallOp("rename", "client_id", "identifier"))
            elif kw.arg == "max_queued_messages":
                self.mark("max-queued-messages", kw)
                self.add_call_op(
                    call, CallOp("rename", "max_queued_messages", "max_queued_outgoing_messages")
                )
            elif kw.arg == "message_retry_set":
                self.mark("message-retry-set", kw)
                self.add_call_op(call, CallOp("drop", "message_retry_set"))
            elif kw.arg == "tls_insecure":
                self.human("tls-insecure", kw)
            elif kw.arg == "tls_params":
                self.mark("tls-deferred", kw, finding=True, severity=Severity.ADVICE)

    def check_method_call(self, call: ast.Call, func: ast.Attribute) -> None:
        recv, method = func.value, func.attr
        if method == "force_disconnect":
            self.human("force-disconnect", call)
            return
        if method in ("publish", "subscribe", "unsubscribe") and self.old_file:
            for kw in call.keywords:
                if kw.arg == "timeout" and const_none(kw.value):
                    if self.known(recv, call):
                        self.mark("timeout-none", kw)
                        self.add_call_op(call, CallOp("value", "timeout", "math.inf"))
                        self.plan.needs_math = True
                    else:
                        self.human(
                            "timeout-none",
                            kw,
                            f"{ast.unparse(func)}(timeout=None): on an MQTT client this waited forever in asyncio-mqtt and waits the client default (10 s) in aiomqtt>=1.0; pass timeout=math.inf.",
                        )
        if method == "matches" and self.old_file and call.args:
            arg = call.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value.endswith("/#"):
                self.mark("topic-matches-hash", call)

    def check_compare(self, node: ast.Compare) -> None:
        operands = [node.left, *node.comparators]
        tuples = any(isinstance(o, ast.Tuple) for o in operands)
        for o in operands:
            if tuples and self._is_subscribe_result(o, node):
                self.human("subscribe-result", node)
                return
            if (
                isinstance(o, ast.Attribute)
                and o.attr == "rc"
                and self._is_mqtt_exception_name(o.value, node)
            ):
                self.human("rc-codes", node)
                return
            if isinstance(o, ast.Attribute) and (
                o.attr.startswith("CONNACK_") or o.attr.startswith("MQTT_ERR_")
            ):
                self.human("rc-codes", node)
                return

    def _is_subscribe_result(self, node: ast.AST, at: ast.AST) -> bool:
        if isinstance(node, ast.Await):
            node = node.value
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "subscribe"
        ):
            return True
        if isinstance(node, ast.Name):
            func = self.func_of(at) or self.tree
            for n in ast.walk(func):
                if isinstance(n, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == node.id for t in n.targets
                ):
                    if self._is_subscribe_result(n.value, at):
                        return True
        return False

    def _is_mqtt_exception_name(self, node: ast.AST, at: ast.AST) -> bool:
        if not isinstance(node, ast.Name):
            return False
        cur: ast.AST | None = at
        while cur is not None:
            if isinstance(cur, ast.ExceptHandler) and cur.name == node.id and cur.type is not None:
                return any(self.imports.qualname(t) in N.ERROR_QUALNAMES for t in handler_types(cur))
            cur = self.parents.get(id(cur))
        return False

