"""What names in a service stand for (stdlib `ast` only): retried functions, plain functions and retry
strategies, followed through imports across the service's modules."""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from fleetshift.recipes._ast import Imports, decorator_calls

_SUBMODULE = re.compile(r"^tenacity\.(?:retry|wait|stop|before|after|before_sleep|nap|_asyncio)\.(\w+)$")


def _norm(qual: str | None) -> str | None:
    """`tenacity.wait.wait_fixed` -> `tenacity.wait_fixed`; `tenacity._asyncio.AsyncRetrying` -> top level."""
    if qual is None:
        return None
    m = _SUBMODULE.match(qual)
    if m and (not qual.startswith("tenacity._asyncio.") or m.group(1) == "AsyncRetrying"):
        return f"tenacity.{m.group(1)}"
    if qual == "tenacity.asyncio.AsyncRetrying":
        return "tenacity.AsyncRetrying"
    return qual


def _module_parts(path: str) -> list[str]:
    parts = path[: -len(".py")].split("/")
    return parts[:-1] if parts[-1] == "__init__" else parts


@dataclass
class ModuleSummary:
    """What other modules may import from one module: its plain functions, retried functions, strategies."""

    plain_funcs: set[str] = field(default_factory=set)
    retry_funcs: set[str] = field(default_factory=set)
    retry_methods: set[str] = field(default_factory=set)
    method_names: set[str] = field(default_factory=set)
    strategies: set[str] = field(default_factory=set)


class ServiceIndex:
    """Module summaries of every Python file of a service, found by dotted-name suffix."""

    def __init__(self, files: Mapping[str, str]) -> None:
        self.modules: list[tuple[list[str], ModuleSummary]] = []
        for path, text in files.items():
            if not path.endswith(".py"):
                continue
            try:
                tree = ast.parse(text)
            except SyntaxError:
                continue
            self.modules.append((_module_parts(path), Facts(tree, path).summary()))

    def lookup(self, module: str) -> ModuleSummary | None:
        want = module.split(".")
        hits = [s for parts, s in self.modules if parts[-len(want) :] == want]
        return hits[0] if len(hits) == 1 else None

    def retry_methods(self) -> set[str]:
        return {m for _, s in self.modules for m in s.retry_methods}

    def plain_methods(self) -> set[str]:
        return {m for _, s in self.modules for m in s.method_names - s.retry_methods}


class Facts:
    """Name bindings of one module and what they stand for (retried function, plain function, strategy)."""

    def __init__(self, tree: ast.Module, path: str = "", index: ServiceIndex | None = None) -> None:
        self.tree, self.path, self.index = tree, path, index
        self.imports = Imports(tree)
        self.from_imports: dict[str, tuple[str, str]] = {}  # local -> (absolute module, name)
        self.bindings: dict[str, list[tuple[str, ast.AST]]] = {}
        self.method_names: set[str] = set()
        self.retry_methods: set[str] = set()
        self.parents: dict[ast.AST, ast.AST] = {}
        self._collect()

    def _bind(self, name: str, kind: str, node: ast.AST) -> None:
        self.bindings.setdefault(name, []).append((kind, node))

    def _bind_names(self, target: ast.AST) -> None:
        """Bind every name in an assignment target (tuple, starred, ...) to a value not known here."""
        for n in ast.walk(target):
            if isinstance(n, ast.Name):
                self._bind(n.id, "other", n)

    def _collect(self) -> None:
        package = _module_parts(self.path)[:-1] if self.path else []
        for node in ast.walk(self.tree):
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self._bind(node.name, "def", node)
                for a in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]:
                    self._bind(a.arg, "other", a)
                for a in (node.args.vararg, node.args.kwarg):
                    if a:
                        self._bind(a.arg, "other", a)
            elif isinstance(node, ast.ClassDef):
                self._bind(node.name, "class", node)
                for item in node.body:
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        self.method_names.add(item.name)
                        if self.retry_decorator(item):
                            self.retry_methods.add(item.name)
            elif isinstance(node, ast.Lambda):
                for a in node.args.args:
                    self._bind(a.arg, "other", a)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    if isinstance(t, ast.Name):
                        self._bind(t.id, "assign", node.value)
                    else:
                        self._bind_names(t)
            elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension, ast.AugAssign, ast.NamedExpr)):
                self._bind_names(node.target)
            elif isinstance(node, ast.withitem) and node.optional_vars is not None:
                self._bind_names(node.optional_vars)
            elif isinstance(node, ast.ExceptHandler) and node.name:
                self._bind(node.name, "other", node)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    self._bind(alias.asname or alias.name.split(".")[0], "import", node)
            elif isinstance(node, ast.ImportFrom):
                module = node.module or ""
                if node.level:
                    base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                    module = ".".join([*base, *([module] if module else [])])
                for alias in node.names:
                    self._bind(alias.asname or alias.name, "import", node)
                    self.from_imports[alias.asname or alias.name] = (module, alias.name)

    # ---- resolution --------------------------------------------------------------------------

    def qual(self, node: ast.AST) -> str | None:
        """The normalised dotted name `node` refers to through the imports, or None."""
        return _norm(self.imports.qualname(node))

    def _imported(self, name: str) -> tuple[ModuleSummary, str] | None:
        if self.index is None or name not in self.from_imports:
            return None
        if any(kind != "import" for kind, _ in self.bindings.get(name, [])):
            return None
        module, attr = self.from_imports[name]
        summary = self.index.lookup(module) if module else None
        return (summary, attr) if summary else None

    def retry_decorator(self, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.Call | ast.expr | None:
        """The tenacity `retry` decorator of `fn` (its Call, or the bare name), if any."""
        for callee, call in decorator_calls(fn):
            if self.qual(callee) == "tenacity.retry":
                return call or callee
        return None

    def _only(self, name: str, kinds: set[str]) -> list[tuple[str, ast.AST]] | None:
        found = self.bindings.get(name, [])
        return found if found and all(k in kinds for k, _ in found) else None

    def is_plain_function(self, expr: ast.AST) -> bool:
        """A lambda, or a name bound only to undecorated defs/lambdas (here or in an imported service module)."""
        if isinstance(expr, ast.Lambda):
            return True
        if not isinstance(expr, ast.Name):
            return False
        imported = self._imported(expr.id)
        if imported:
            return imported[1] in imported[0].plain_funcs
        found = self._only(expr.id, {"def", "assign"})
        return bool(found) and all(
            (kind == "def" and not node.decorator_list)  # type: ignore[attr-defined]
            or (kind == "assign" and isinstance(node, ast.Lambda))
            for kind, node in found
        )

    def is_strategy(self, expr: ast.AST, depth: int = 0) -> bool:
        """A synchronous tenacity retry strategy: `retry_*` call, `retry_always`, or a name bound to one."""
        if depth > 8:
            return False
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, (ast.BitOr, ast.BitAnd)):
            return self.is_strategy(expr.left, depth + 1) and self.is_strategy(expr.right, depth + 1)
        if isinstance(expr, ast.Call):
            q = self.qual(expr.func)
            if q and q.startswith("tenacity.retry_") and q.count(".") == 1:
                return True
            if isinstance(expr.func, ast.Name):
                found = self._only(expr.func.id, {"class"})
                return bool(found) and all(
                    any(self.qual(b) in ("tenacity.retry_base", "tenacity.retry.retry_base") for b in n.bases)  # type: ignore[attr-defined]
                    for _, n in found
                )
            return False
        if isinstance(expr, (ast.Name, ast.Attribute)):
            if self.qual(expr) in ("tenacity.retry_always", "tenacity.retry_never"):
                return True
            if isinstance(expr, ast.Name):
                imported = self._imported(expr.id)
                if imported:
                    return imported[1] in imported[0].strategies
                found = self._only(expr.id, {"assign"})
                return bool(found) and all(self.is_strategy(n, depth + 1) for _, n in found)
        return False

    def is_retry_function(self, expr: ast.AST) -> bool:
        """A function decorated with tenacity's `retry` (by name, imported, or a decorated method)."""
        if isinstance(expr, ast.Name):
            imported = self._imported(expr.id)
            if imported:
                return imported[1] in imported[0].retry_funcs
            found = self._only(expr.id, {"def"})
            return bool(found) and all(self.retry_decorator(n) is not None for _, n in found)  # type: ignore[arg-type]
        if isinstance(expr, ast.Attribute):
            module = None
            if isinstance(expr.value, ast.Name) and expr.value.id in self.from_imports:
                module = ".".join(p for p in self.from_imports[expr.value.id] if p)
            elif (q := self.imports.qualname(expr.value)) and not q.startswith("tenacity"):
                module = q
            summary = self.index.lookup(module) if module and self.index is not None else None
            if summary is not None:
                return expr.attr in summary.retry_funcs
            if expr.attr in self.retry_methods and expr.attr not in self.method_names - self.retry_methods:
                return self.index is None or expr.attr not in self.index.plain_methods()
            if self.index is not None and expr.attr in self.index.retry_methods():
                return expr.attr not in self.index.plain_methods()
        return False

    def imported_from_elsewhere(self, expr: ast.AST) -> bool:
        """Whether `expr` is rooted at a name imported from a module other than tenacity."""
        while isinstance(expr, ast.Attribute):
            expr = expr.value
        if not isinstance(expr, ast.Name) or self._only(expr.id, {"import"}) is None:
            return False
        origin = self.from_imports.get(expr.id, (self.imports.names.get(expr.id, ""), ""))[0]
        return not origin.startswith("tenacity")

    def is_async_def(self, expr: ast.AST) -> bool:
        """A name (or `self.method`) bound only to `async def`s."""
        if (
            isinstance(expr, ast.Attribute)
            and isinstance(expr.value, ast.Name)
            and expr.value.id in ("self", "cls")
        ):
            found = [
                item
                for cls in ast.walk(self.tree)
                if isinstance(cls, ast.ClassDef)
                for item in cls.body
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == expr.attr
            ]
            return bool(found) and all(isinstance(n, ast.AsyncFunctionDef) for n in found)
        if not isinstance(expr, ast.Name):
            return False
        found = self._only(expr.id, {"def"})
        return bool(found) and all(isinstance(n, ast.AsyncFunctionDef) for _, n in found)

    def summary(self) -> ModuleSummary:
        out = ModuleSummary(retry_methods=set(self.retry_methods), method_names=set(self.method_names))
        for node in self.tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if self.retry_decorator(node) is not None:
                    out.retry_funcs.add(node.name)
                elif not node.decorator_list:
                    out.plain_funcs.add(node.name)
            elif (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
            ):
                name = node.targets[0].id
                if isinstance(node.value, ast.Lambda):
                    out.plain_funcs.add(name)
                elif self.is_strategy(node.value):
                    out.strategies.add(name)
        return out


def _compose_chain(node: ast.BinOp) -> list[ast.expr]:
    """Operands of `a | b | c` (one operator, left-associative)."""
    out = [node.right]
    left = node.left
    while isinstance(left, ast.BinOp) and type(left.op) is type(node.op):
        out.append(left.right)
        left = left.left
    out.append(left)
    return list(reversed(out))


def compose_verdict(facts: Facts, node: ast.BinOp, in_retry_kw: bool) -> str | None:
    """'auto' when `strategy | function` can become retry_any/retry_all, 'human' when unsure, None when fine."""
    operands = _compose_chain(node)
    strategies = [facts.is_strategy(o) for o in operands]
    if all(strategies):
        return None
    if not any(strategies) and not in_retry_kw:
        return None
    if any(strategies) and all(
        s or facts.is_plain_function(o) for s, o in zip(strategies, operands, strict=True)
    ):
        return "auto"
    return "human"
