"""The analysis' bookkeeping: where each node sits (function, class), which names hold an MQTT Client
(constructors, annotations, pytest fixtures), and how sites and edits are recorded in the Plan."""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping

from fleetshift.model import Severity
from fleetshift.recipes._ast import Imports
from fleetshift.recipes.aiomqtt import names as N
from fleetshift.recipes.aiomqtt.overlap import call_stats
from fleetshift.recipes.aiomqtt.plan import CallOp, Key, Mark, Plan
from fleetshift.recipes.aiomqtt.tree import parents
from fleetshift.recipes.rule import by_slug


class ClientTracker:
    """One file's tree with its scope index and Client receivers, and the Plan being filled."""

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
        self.parents = parents(tree)
        self.plan = Plan()
        self.scope_of: dict[int, tuple[ast.AST | None, ast.ClassDef | None]] = {}
        self.receivers: dict[tuple[int, str], list[ast.Call | None]] = {}  # (scope id, code) -> constructors
        self._index(tree, None, None)
        self.fixtures = fixtures
        if fixtures and not self.mqtt_file:
            self.mqtt_file = any(isinstance(n, ast.arg) and n.arg in fixtures for n in ast.walk(tree))

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
        severity: Severity | None = None,
    ) -> None:
        self.plan.marks.append(
            Mark(rule, getattr(node, "lineno", 0), getattr(node, "col_offset", 0), message, finding, severity)
        )

    def human(self, rule: str, node: ast.AST, message: str = "") -> None:
        self.mark(rule, node, message, finding=True, severity=Severity.HUMAN)

    def src(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.text, node) or ast.unparse(node)

    def add_call_op(self, call: ast.Call, op: CallOp) -> None:
        ops = self.plan.call_ops.setdefault(self.key(call), [])
        if op not in ops:
            ops.append(op)

    def rule_fix(self, slug: str) -> str:
        return by_slug("fleetshift.recipes.aiomqtt.rules")[slug].fix

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

    def func_of(self, node: ast.AST) -> ast.AST | None:
        """The innermost function or lambda around `node`; None at module or class level."""
        return self.scope_of.get(id(node), (None, None))[0]

    def class_of(self, node: ast.AST) -> ast.ClassDef | None:
        """The innermost class around `node`."""
        return self.scope_of.get(id(node), (None, None))[1]

    def enclosing_funcs(self, node: ast.AST) -> Iterator[ast.AST | None]:
        func = self.func_of(node)
        while func is not None:
            yield func
            func = self.func_of(func)
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
        func, cls = self.func_of(at), self.class_of(at)
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
            cls = self.class_of(at)
            return self.receivers.get((id(cls), code)) if cls is not None else None
        for func in self.enclosing_funcs(at):
            found = self.receivers.get((id(func) if func is not None else 0, code))
            if found is not None:
                return found
        return None

    def message_call(self, call: ast.AST, at: ast.AST, *, in_with: bool = False) -> bool:
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)):
            return False
        if call.func.attr in ("filtered_messages", "unfiltered_messages"):
            return True
        return call.func.attr == "messages" and (in_with or self.known(call.func.value, at))
