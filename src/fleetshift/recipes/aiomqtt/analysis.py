"""One `ast` pass that finds every asyncio-mqtt / aiomqtt 1.x site and decides, per site, rewrite or Finding.

Detection turns the result into UsageSites; the LibCST rewriter applies the planned edits by source
position, so both always agree on what is automatic.
"""

from __future__ import annotations

import ast
import sys
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

from fleetshift.recipes._ast import Imports
from fleetshift.recipes.aiomqtt import names as N

Key = tuple[int, int, int, int]  # start line, start column (characters), end line, end column
MESSAGE_METHODS = ("messages", "filtered_messages", "unfiltered_messages")
PAHO_ONLY_ATTRS = frozenset({"timestamp", "dup", "state", "info"})
TASK_SPAWNERS = frozenset(
    {"create_task", "gather", "ensure_future", "start_soon", "run_coroutine_threadsafe"}
)
LOG_METHODS = frozenset(
    {"debug", "info", "warning", "warn", "error", "exception", "critical", "log", "print"}
)
STR_SAFE_CALLS = frozenset({"str", "repr", "print", "format"})
PATCH_CALLS = frozenset({"patch", "setattr", "delattr", "import_module"})


@dataclass(frozen=True)
class Mark:
    """A site: its rule slug, where it is, and whether the rewrite must report it as a Finding."""

    rule: str
    line: int
    col: int
    message: str = ""
    finding: bool = False
    severity: Literal["human", "advice"] | None = None


@dataclass(frozen=True)
class CallOp:
    """An edit of one call: rename/drop/set/add a keyword, or replace the method and its arguments."""

    kind: Literal["rename", "drop", "value", "add", "method"]
    keyword: str = ""
    new: str = ""


@dataclass(frozen=True)
class ForOp:
    """Turn `async for m in M` into `async for m in <iter_code>`, optionally guarding the body by a filter."""

    iter_code: str
    target: str
    filter_code: str | None = None


@dataclass
class Plan:
    """Every site of one file plus the position-keyed edits the rewriter applies."""

    marks: list[Mark] = field(default_factory=list)
    call_ops: dict[Key, list[CallOp]] = field(default_factory=dict)
    attr_ops: dict[Key, str] = field(default_factory=dict)  # "identifier", "+value" or "=<code>"
    name_ops: dict[Key, str] = field(default_factory=dict)
    string_ops: dict[Key, str] = field(default_factory=dict)
    for_ops: dict[Key, ForOp] = field(default_factory=dict)
    flatten_with: set[Key] = field(default_factory=set)
    try_to_with: dict[Key, str] = field(default_factory=dict)
    drop_stmts: set[Key] = field(default_factory=set)
    needs_math: bool = False

    @property
    def has_edits(self) -> bool:
        return bool(
            self.call_ops
            or self.attr_ops
            or self.name_ops
            or self.string_ops
            or self.for_ops
            or self.try_to_with
        )


CallStats = dict[str, tuple[int, bool]]  # function name -> (call sites, whether two of its calls may overlap)


def call_stats(tree: ast.AST) -> CallStats:
    """How often each function name is called in a file, and whether two of its calls may run at once.

    Calls overlap when one is handed to a task API (create_task, gather, TaskGroup...) inside a loop or a
    comprehension, or when one function body both spawns it and calls it again.
    """
    parents = _parents(tree)
    counts: Counter[str] = Counter()
    per_body: Counter[tuple[str, int]] = Counter()
    spawned_in: set[tuple[str, int]] = set()
    overlap: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _callee_name(node.func)
        if not name or _stdlib_call(node.func):
            continue
        counts[name] += 1
        child: ast.AST = node
        parent = parents.get(id(node))
        is_spawned, in_loop = False, False
        while parent is not None and not isinstance(
            parent, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
        ):
            if isinstance(parent, ast.Call) and _callee_name(parent.func) in TASK_SPAWNERS:
                is_spawned = True
            if isinstance(
                parent, ast.comprehension | ast.ListComp | ast.GeneratorExp | ast.SetComp | ast.Starred
            ):
                in_loop = True
            if isinstance(parent, ast.For | ast.AsyncFor | ast.While) and child is not getattr(
                parent, "iter", None
            ):
                in_loop = True
            child, parent = parent, parents.get(id(parent))
        body = (name, id(parent))
        per_body[body] += 1
        if is_spawned:
            spawned_in.add(body)
            if in_loop:
                overlap.add(name)
    overlap |= {name for (name, body) in spawned_in if per_body[(name, body)] > 1}
    return {n: (c, n in overlap) for n, c in counts.items()}


def defined_functions(tree: ast.AST) -> set[str]:
    """Names of the functions a file defines (at any depth)."""
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}


def merge_stats(own: CallStats, others: list[tuple[CallStats, set[str]]]) -> CallStats:
    """A file's call stats plus those of other files, skipping names another file defines for itself."""
    out: dict[str, tuple[int, bool]] = dict(own)
    for stats, defined in others:
        for name, (count, overlap) in stats.items():
            if name not in defined:
                old = out.get(name, (0, False))
                out[name] = (old[0] + count, old[1] or overlap)
    return out


def _stdlib_call(func: ast.AST) -> bool:
    """`asyncio.run(...)` and the like: an attribute of a standard-library module, not a local function."""
    return (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id in sys.stdlib_module_names
    )


def may_overlap(stats: Mapping[str, tuple[int, bool]], name: str) -> bool:
    """Whether two calls of `name` may run at the same time."""
    return stats.get(name, (0, False))[1]


def analyse(
    text: str,
    tree: ast.Module,
    stats: Mapping[str, tuple[int, bool]] | None = None,
    fixtures: frozenset[str] = frozenset(),
) -> Plan:
    """Find the sites of one file and plan their edits; `fixtures` names pytest fixtures that give a Client."""
    return _Analysis(text, tree, stats, fixtures).run()


def client_fixtures(text: str, tree: ast.Module) -> frozenset[str]:
    """Names of the pytest fixtures in a file that yield or return an MQTT Client."""
    return _Analysis(text, tree, {}).client_fixtures()


def _parents(tree: ast.AST) -> dict[int, ast.AST]:
    out: dict[int, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            out[id(child)] = node
    return out


def _callee_name(func: ast.AST) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _const_none(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


class _Analysis:
    def __init__(
        self,
        text: str,
        tree: ast.Module,
        stats: Mapping[str, tuple[int, bool]] | None,
        fixtures: frozenset[str] = frozenset(),
    ) -> None:
        self.text = text
        self.lines = text.splitlines(keepends=True)
        self.tree = tree
        self.imports = Imports(tree)
        self.old_file = self.imports.imports_module(N.OLD_PACKAGE)
        self.mqtt_file = self.old_file or self.imports.imports_module(N.NEW_PACKAGE)
        self.stats = stats if stats is not None else call_stats(tree)
        self.parents = _parents(tree)
        self.plan = Plan()
        self.scope_of: dict[int, tuple[ast.AST | None, ast.ClassDef | None]] = {}
        self.receivers: dict[tuple[int, str], list[ast.Call | None]] = {}  # (scope id, code) -> constructors
        self._index(tree, None, None)
        self.fixtures = fixtures
        if fixtures and not self.mqtt_file:
            self.mqtt_file = any(isinstance(n, ast.arg) and n.arg in fixtures for n in ast.walk(tree))

    # ---- bookkeeping ------------------------------------------------------------------------

    def key(self, node: ast.AST) -> Key:
        return (
            node.lineno,
            self._col(node.lineno, node.col_offset),
            node.end_lineno or 0,
            self._col(node.end_lineno or 0, node.end_col_offset or 0),
        )  # type: ignore[attr-defined]

    def _col(self, line: int, byte_col: int) -> int:
        if not 0 < line <= len(self.lines):
            return byte_col
        return len(self.lines[line - 1].encode()[:byte_col].decode(errors="replace"))

    def mark(
        self,
        rule: str,
        node: ast.AST,
        message: str = "",
        *,
        finding: bool = False,
        severity: Literal["human", "advice"] | None = None,
    ) -> None:
        self.plan.marks.append(
            Mark(rule, getattr(node, "lineno", 0), getattr(node, "col_offset", 0), message, finding, severity)
        )

    def human(self, rule: str, node: ast.AST, message: str = "") -> None:
        self.mark(rule, node, message, finding=True, severity="human")

    def src(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.text, node) or ast.unparse(node)

    def add_call_op(self, call: ast.Call, op: CallOp) -> None:
        ops = self.plan.call_ops.setdefault(self.key(call), [])
        if op not in ops:
            ops.append(op)

    def _index(self, node: ast.AST, func: ast.AST | None, cls: ast.ClassDef | None) -> None:
        self.scope_of[id(node)] = (func, cls)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            inner_func, inner_cls = node, cls
        elif isinstance(node, ast.ClassDef):
            inner_func, inner_cls = None, node
        else:
            inner_func, inner_cls = func, cls
        for child in ast.iter_child_nodes(node):
            self._index(child, inner_func, inner_cls)

    def enclosing_funcs(self, node: ast.AST) -> Iterator[ast.AST | None]:
        func = self.scope_of.get(id(node), (None, None))[0]
        while func is not None:
            yield func
            func = self.scope_of.get(id(func), (None, None))[0]
        yield None

    def is_client_call(self, node: ast.AST | None) -> bool:
        return isinstance(node, ast.Call) and self.imports.qualname(node.func) in N.CLIENT_QUALNAMES

    def is_client_annotation(self, ann: ast.AST | None) -> bool:
        if ann is None:
            return False
        if isinstance(ann, ast.Constant) and isinstance(ann.value, str):
            try:
                ann = ast.parse(ann.value, mode="eval")
            except SyntaxError:
                return False
        return any(
            isinstance(n, ast.Name | ast.Attribute) and self.imports.qualname(n) in N.CLIENT_QUALNAMES
            for n in ast.walk(ann)
        )

    def _scope_for(self, target: ast.AST, at: ast.AST) -> int | None:
        func, cls = self.scope_of.get(id(at), (None, None))
        if (
            isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and target.value.id == "self"
        ):
            return id(cls) if cls is not None else None
        if isinstance(target, ast.Name):
            return id(func) if func is not None else 0
        return None

    def _add_receiver(self, target: ast.AST, at: ast.AST, ctor: ast.Call | None) -> None:
        scope = self._scope_for(target, at)
        if scope is not None:
            self.receivers.setdefault((scope, ast.unparse(target)), []).append(ctor)

    def collect_receivers(self) -> None:
        for node in ast.walk(self.tree):
            if isinstance(node, ast.AsyncWith | ast.With):
                for item in node.items:
                    if self.is_client_call(item.context_expr) and item.optional_vars is not None:
                        self._add_receiver(item.optional_vars, node, item.context_expr)  # type: ignore[arg-type]
            elif isinstance(node, ast.Assign) and self.is_client_call(node.value):
                for target in node.targets:
                    self._add_receiver(target, node, node.value)  # type: ignore[arg-type]
            elif isinstance(node, ast.AnnAssign):
                if self.is_client_call(node.value):
                    self._add_receiver(node.target, node, node.value)  # type: ignore[arg-type]
                elif self.is_client_annotation(node.annotation):
                    target = node.target
                    if isinstance(target, ast.Name) and isinstance(self.parents.get(id(node)), ast.ClassDef):
                        target = ast.Attribute(ast.Name("self"), target.id)
                        cls = self.parents[id(node)]
                        self.receivers.setdefault((id(cls), f"self.{node.target.id}"), []).append(None)  # type: ignore[union-attr]
                        continue
                    self._add_receiver(target, node, None)
            elif isinstance(node, ast.arg) and (
                self.is_client_annotation(node.annotation) or node.arg in self.fixtures
            ):
                func = self.parents.get(id(self.parents.get(id(node))))  # arg -> arguments -> function
                if func is not None:
                    self.receivers.setdefault((id(func), node.arg), []).append(None)

    def client_fixtures(self) -> frozenset[str]:
        self.collect_receivers()
        found = set()
        for node in ast.walk(self.tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if not any(
                (ast.unparse(d.func if isinstance(d, ast.Call) else d)).endswith("fixture")
                for d in node.decorator_list
            ):
                continue
            for n in ast.walk(node):
                value = n.value if isinstance(n, ast.Yield | ast.Return) else None
                if value is not None and (self.is_client_call(value) or self.known(value, n)):
                    found.add(node.name)
        return frozenset(found)

    def known(self, recv: ast.AST, at: ast.AST) -> bool:
        return self.constructors(recv, at) is not None

    def constructors(self, recv: ast.AST, at: ast.AST) -> list[ast.Call | None] | None:
        """The constructor calls bound to `recv` as seen from `at`, or None when it is not a known Client."""
        if not isinstance(recv, ast.Name | ast.Attribute):
            return None
        code = ast.unparse(recv)
        if isinstance(recv, ast.Attribute):
            if not (isinstance(recv.value, ast.Name) and recv.value.id == "self"):
                return None
            cls = self.scope_of.get(id(at), (None, None))[1]
            return self.receivers.get((id(cls), code)) if cls is not None else None
        for func in self.enclosing_funcs(at):
            found = self.receivers.get((id(func) if func is not None else 0, code))
            if found is not None:
                return found
        return None

    # ---- the pass ---------------------------------------------------------------------------

    def run(self) -> Plan:
        self.collect_receivers()
        self.check_imports()
        if not self.mqtt_file:
            self.check_paho()
            self.check_message_sites()
            return self.plan
        self.check_calls()
        self.check_message_sites()
        self.check_connect_pairs()
        self.check_except_handlers()
        self.check_paho()
        return self.plan

    # ---- A1 imports, attribute chains, patch strings ------------------------------------------

    def check_imports(self) -> None:
        module_aliases: dict[str, str] = {}
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name == N.OLD_PACKAGE or alias.name.startswith(N.OLD_PACKAGE + "."):
                        self.mark("imports", node, f"import {alias.name}")
                    elif alias.name.startswith("aiomqtt.error"):
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
                    and _callee_name(parent.func) in PATCH_CALLS
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

    # ---- calls: constructor keywords, .id, timeouts, flags ----------------------------------

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
        self.check_client_outside_loop()

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
                self.mark("tls-deferred", kw, finding=True, severity="advice")

    def check_method_call(self, call: ast.Call, func: ast.Attribute) -> None:
        recv, method = func.value, func.attr
        if method == "force_disconnect":
            self.human("force-disconnect", call)
            return
        if method in ("publish", "subscribe", "unsubscribe") and self.old_file:
            for kw in call.keywords:
                if kw.arg == "timeout" and _const_none(kw.value):
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
            func = self.scope_of.get(id(at), (None, None))[0] or self.tree
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
                types = cur.type.elts if isinstance(cur.type, ast.Tuple) else [cur.type]
                return any(self.imports.qualname(t) in N.ERROR_QUALNAMES for t in types)
            cur = self.parents.get(id(cur))
        return False

    def check_client_outside_loop(self) -> None:
        called_from_async: Counter[str] = Counter()
        called_elsewhere: Counter[str] = Counter()
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Call) and (name := _callee_name(node.func)):
                func = self.scope_of.get(id(node), (None, None))[0]
                (called_from_async if isinstance(func, ast.AsyncFunctionDef) else called_elsewhere)[name] += 1
        for node in ast.walk(self.tree):
            if not self.is_client_call(node):
                continue
            func = self.scope_of.get(id(node), (None, None))[0]
            if isinstance(func, ast.AsyncFunctionDef):
                continue
            if isinstance(func, ast.FunctionDef | ast.Lambda):
                name = getattr(func, "name", "")
                if name and called_from_async[name] and not called_elsewhere[name]:
                    continue
                where = f"in the sync function {name or 'lambda'}()"
            else:
                where = "in a class body" if self.scope_of[id(node)][1] is not None else "at module level"
            self.human(
                "client-outside-loop",
                node,
                f"Client(...) built {where}: aiomqtt>=2.3.1 needs a running event loop there; build it inside async code (e.g. a lifespan/startup coroutine).",
            )

    # ---- A5/A6 message consumption ------------------------------------------------------------

    def check_message_sites(self) -> None:
        sites: list[tuple[ast.AST, ast.Call, str]] = []
        context_calls: set[int] = set()
        for node in ast.walk(self.tree):
            if isinstance(node, ast.AsyncWith):
                for item in node.items:
                    call = item.context_expr
                    if self._message_call(call, node, in_with=True):
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
                and self._message_call(node, node)
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
            func = self.scope_of.get(id(node), (None, None))[0]
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
        parent = self.scope_of.get(id(func), (None, None))[0]
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

    def rule_fix(self, slug: str) -> str:
        from fleetshift.recipes.aiomqtt.rules import RULES

        return RULES[slug].fix

    def _message_call(self, call: ast.AST, at: ast.AST, *, in_with: bool = False) -> bool:
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)):
            return False
        if call.func.attr in ("filtered_messages", "unfiltered_messages"):
            return True
        return call.func.attr == "messages" and (in_with or self.known(call.func.value, at))

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
            if (
                len(loops) != 1
                or uses != 1
                or self.scope_of[id(loops[0])][0] is not self.scope_of[id(node)][0]
            ):
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
                new_names = {"queue_maxsize": "max_queued_incoming_messages", "queue_class": "queue_type"}
                if any(kw.arg in new_names.values() or kw.arg is None for kw in ctor.keywords):
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
            new_names = {"queue_maxsize": "max_queued_incoming_messages", "queue_class": "queue_type"}
            for arg, value in queue_kwargs.items():
                self.mark("incoming-queue-args", value, f"{arg}= -> Client({new_names[arg]}=)")
                self.add_call_op(ctor, CallOp("add", new_names[arg], self.src(value)))
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
            name = _callee_name(parent.func)
            if name in STR_SAFE_CALLS or name in LOG_METHODS:
                return False
        return True

    # ---- A7 connect/disconnect ----------------------------------------------------------------

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
            severity="advice",
        )

    def _block_of(self, stmt: ast.AST) -> list[ast.stmt]:
        parent = self.parents.get(id(stmt))
        for name in ("body", "orelse", "finalbody", "handlers"):
            block = getattr(parent, name, None)
            if isinstance(block, list) and stmt in block:
                return block
        return []

    # ---- A10 / A2 -----------------------------------------------------------------------------

    def check_except_handlers(self) -> None:
        for node in ast.walk(self.tree):
            if not isinstance(node, ast.Try):
                continue
            code_errors = [
                h
                for h in node.handlers
                if h.type is not None
                and any(
                    self.imports.qualname(t) in N.CODE_ERROR_QUALNAMES
                    for t in (h.type.elts if isinstance(h.type, ast.Tuple) else [h.type])
                )
            ]
            if not code_errors:
                continue
            guarded = any(
                (
                    isinstance(n, ast.AsyncWith)
                    and any(
                        self.is_client_call(i.context_expr) or self._message_call(i.context_expr, n)
                        for i in n.items
                    )
                )
                or isinstance(n, ast.AsyncFor)
                for stmt in node.body
                for n in ast.walk(stmt)
            )
            if guarded:
                self.human("disconnect-errors", code_errors[0])

    def check_paho(self) -> None:
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Call) and self.imports.qualname(node.func) == "paho.mqtt.client.Client":
                self.human("paho-direct", node)
