"""tenacity 8.2 -> 9.x: rewrite the removed `tenacity._asyncio` imports, `.retry.statistics` reads and
`strategy | function` compositions; flag the behaviour changes that need a person.

`wait_exponential` is NOT renamed and `reraise=True` is NOT added: both are false claims (the names and the
`reraise=False` default are the same in 8.2.3 and every 9.x release).
"""

from __future__ import annotations

import ast
import configparser
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from fleetshift.model import Action, Finding, Severity, UsageSite
from fleetshift.recipes._ast import Imports, decorator_calls, dotted, keyword
from fleetshift.recipes.base import (
    Advisory,
    ConfigFile,
    FileKind,
    Recipe,
    RewriteContext,
    RewriteResult,
    Rule,
    ServiceRewrite,
    SourceFile,
    config_kind,
    file_kind,
)

CHANGELOG = "https://tenacity.readthedocs.io/en/latest/changelog.html"
PR = "https://github.com/jd/tenacity/pull/"

# Names `tenacity._asyncio` offered in 8.2.3 that `tenacity.asyncio` still offers in 9.1.2 and 9.2.1 (ran).
ASYNCIO_NAMES = frozenset(
    {
        "AttemptManager",
        "BaseRetrying",
        "DoAttempt",
        "DoSleep",
        "RetryCallState",
        "WrappedFn",
        "WrappedFnReturnT",
    }
)
RETRY_CALLABLES = frozenset(
    {"tenacity.retry", "tenacity.Retrying", "tenacity.AsyncRetrying", "tenacity.asyncio.AsyncRetrying"}
)
RETRYING_BASES = frozenset(
    {
        "tenacity.Retrying",
        "tenacity.AsyncRetrying",
        "tenacity.BaseRetrying",
        "tenacity.TornadoRetrying",
        "tenacity.asyncio.AsyncRetrying",
        "tenacity.tornadoweb.TornadoRetrying",
    }
)
ASYNC_SLEEPS = frozenset({"asyncio.sleep", "trio.sleep", "anyio.sleep"})
CALLBACK_KEYWORDS = ("before", "after", "before_sleep", "retry_error_callback", "retry")
PURE_CALLS = frozenset(
    {
        "min",
        "max",
        "abs",
        "float",
        "int",
        "round",
        "pow",
        "len",
        "isinstance",
        "getattr",
        "hasattr",
        "str",
        "bool",
    }
)
PURE_MODULES = ("math.", "random.")
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


# ---- per-module facts (stdlib ast) ---------------------------------------------------------------


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
                        for n in ast.walk(t):
                            if isinstance(n, ast.Name):
                                self._bind(n.id, "other", n)
            elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension, ast.AugAssign, ast.NamedExpr)):
                for n in ast.walk(node.target):
                    if isinstance(n, ast.Name):
                        self._bind(n.id, "other", n)
            elif isinstance(node, ast.withitem) and node.optional_vars is not None:
                for n in ast.walk(node.optional_vars):
                    if isinstance(n, ast.Name):
                        self._bind(n.id, "other", n)
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


def _pure(fn: ast.AST, first_param: str | None) -> bool:
    """Whether a wait function/lambda/`__call__` body only computes a value (no counting, logging, popping)."""
    for node in ast.walk(fn):
        if isinstance(node, (ast.Global, ast.Nonlocal, ast.Yield, ast.YieldFrom, ast.Await, ast.Delete)):
            return False
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(not isinstance(t, ast.Name) for t in targets) or isinstance(node, ast.AugAssign):
                return False
        if isinstance(node, ast.Call):
            name = dotted(node.func) or ""
            root = name.split(".")[0]
            if name in PURE_CALLS or name.startswith(PURE_MODULES):
                continue
            if first_param and root == first_param and "." in name:
                continue  # retry_state.outcome.exception() and friends only read
            return False
    return True


# ---- the recipe ------------------------------------------------------------------------------------


def _rule(slug: str, summary: str, action: Action, fix: str, pr: str, since: str) -> Rule:
    return Rule(f"tenacity/{slug}", summary, action, fix, f"{PR}{pr}" if pr else CHANGELOG, since)


class TenacityRecipe(Recipe):
    """tenacity 8.2 -> 9.x (8.4.x/8.5.x pins already carry the statistics and composition breakage)."""

    id = "tenacity"
    title = "tenacity 8.2 -> 9.x"
    package = "tenacity"
    migrates_from = "<9"
    migrates_to = ">=9.1.2,<10"
    known_versions = (
        "6.0.0", "6.1.0", "6.2.0", "6.3.0", "6.3.1", "7.0.0", "8.0.0", "8.0.1", "8.1.0", "8.2.0", "8.2.1",
        "8.2.2", "8.2.3", "8.3.0", "8.4.0", "8.4.1", "8.4.2", "8.5.0", "9.0.0", "9.1.2", "9.1.3", "9.1.4",
        "9.2.1",
    )  # fmt: skip
    tokens = (b"tenacity", b".retry.statistics", b"asyncio.sleep", b'"sleep"', b"'sleep'")
    config_tokens = (b"requires-python", b"python_requires")
    order = 40
    docs = f"{CHANGELOG} ; https://github.com/jd/tenacity/tree/main/releasenotes/notes"
    advisories = (
        Advisory("==8.4.0", "broken wheel: `import tenacity` fails with No module named 'tenacity.asyncio'; never pin 8.4.0", f"{PR}474"),
        Advisory(
            ">=9.0,<9.2",
            "`retry_strategy | plain_function` (and `&`) raises AttributeError on 8.4.x-9.1.4 (fixed in 9.2); "
            "the recipe rewrites such compositions to retry_any()/retry_all(), which work on every version",
            f"{PR}606",
        ),
        Advisory(">=9.1.3", "needs Python >=3.10; a service still on Python 3.9 stops at 9.1.2", CHANGELOG),
    )  # fmt: skip
    rules = (
        _rule("asyncio-module", "`tenacity._asyncio` was removed (now `tenacity.asyncio`)", Action.AUTO,
              "import AsyncRetrying from `tenacity`, other names from `tenacity.asyncio`", "451", "8.4.0"),
        _rule("asyncio-patch-target", "a patch target names `tenacity._asyncio`, which no longer exists", Action.HUMAN,
              'tenacity._asyncio was removed in 8.4; patch "asyncio.sleep" or pass sleep= to AsyncRetrying', "451", "8.4.0"),
        _rule("retry-statistics", "`f.retry.statistics` is empty on tenacity 8.5-9.1; read `f.statistics`", Action.AUTO,
              "drop `.retry` before `.statistics` on tenacity-decorated functions", "484", "8.5.0"),
        _rule("retry-statistics-unresolved", "`x.retry.statistics` on something not known to be a retried function",
              Action.HUMAN, "if it is a tenacity-decorated function, read `.statistics` instead of `.retry.statistics`",
              "484", "8.5.0"),
        _rule("retrying-subclass", "decorated calls run `self.copy()`, which calls `__init__` with the base keywords",
              Action.HUMAN, "since tenacity 8.4.2 decorated calls run self.copy(), which calls __init__ with only the base "
              "keywords (plus name=, enabled= in 9.2); accept **kwargs and/or override copy()", "479", "8.4.2"),
        _rule("custom-wait", "a custom wait is now also evaluated on the final attempt", Action.HUMAN,
              "custom wait strategy is now also evaluated on the final attempt (tenacity>=8.3); make it side-effect free",
              "423", "8.3.0"),
        _rule("async-callback", "async callbacks are awaited under AsyncRetrying", Action.HUMAN,
              "async callback is now awaited by tenacity (>=8.3); remove manual awaiting of the result", "437", "8.3.0"),
        _rule("patched-asyncio-sleep", "a patched `asyncio.sleep` now also sees tenacity's back-off sleeps", Action.HUMAN,
              "asyncio.sleep patch now also sees tenacity back-off sleeps (tenacity>=8.3); adjust call-count assertions "
              "or pass sleep= explicitly", "450", "8.3.0"),
        _rule("retry-compose", "`retry_strategy | plain_function` raises AttributeError on 8.4-9.1.4", Action.AUTO,
              "rewrite to retry_any(...) / retry_all(...), valid on every version", "606", "8.4.0"),
        _rule("retry-compose-unresolved", "a retry composition whose operands could not be resolved", Action.HUMAN,
              "`a | b` / `a & b` raises AttributeError on tenacity 8.4-9.1.4 when an operand is a plain function; "
              "write retry_any(a, b) / retry_all(a, b)", "606", "8.4.0"),
        _rule("random-exponential-min", "`wait_random_exponential(min=...)` is now honoured", Action.HUMAN,
              "wait_random_exponential(min=...) now really waits at least min (tenacity>=9.0); back-off gets longer. "
              "Keep it (intended) or drop min= to keep 8.x timing", "425", "9.0.0"),
        _rule("sync-async-sleep", "a sync function with an async `sleep=` now returns a coroutine", Action.HUMAN,
              "from tenacity 9.1.3 a sync function with an async sleep= returns a coroutine; make it async (and await "
              "callers) or use a sync sleep", "551", "9.1.3"),
        _rule("log-format", "`after_log`/`before_sleep_log` format seconds with `%.3g`", Action.AUTO,
              'after_log gets sec_format="%0.3f" (valid on 8.x too); before_sleep_log gets sec_format="%s" when the '
              "target is >=9.1.3", "489", "9.1.3"),
        _rule("before-sleep-exc-info", "`before_sleep_log(exc_info=True)` puts the traceback in the message",
              Action.HUMAN, "tenacity>=9.2 no longer passes exc_info to the logger; tracebacks are embedded in the "
              "message text (structured logging, Sentry and caplog .exc_info assertions change)", "622", "9.2.1"),
        _rule("reraise-tryagain", "`reraise=True` + `raise TryAgain` in `except` re-raises the underlying error",
              Action.HUMAN, "with reraise=True, TryAgain raised inside an except block now surfaces the original "
              "exception (tenacity>=9.2); update callers that catch TryAgain", "640", "9.2.1"),
        _rule("jitter-initial", "`wait_exponential_jitter(initial=)` is deprecated for `multiplier=`", Action.AUTO,
              "rename initial= to multiplier= (only when the target is >=9.2; multiplier= does not exist before)",
              "629", "9.2.1"),
        _rule("empty-wait-chain", "`wait_chain()` with no strategies raises ValueError at construction", Action.INFO,
              "give wait_chain() at least one strategy (it raised IndexError on first use before)", "647", "9.2.1"),
        _rule("python-floor", "tenacity 9.1.2 needs Python >=3.9, 9.1.3+ need >=3.10", Action.HUMAN,
              "drop Python 3.8 (and 3.9 for tenacity>=9.1.3) from requires-python, or pin an older tenacity", "552",
              "9.1.2"),
    )  # fmt: skip

    # ---- detection -------------------------------------------------------------------------------

    def detect(self, src: SourceFile) -> Iterable[UsageSite]:
        return list(self._detect(src.tree, src.path, src.kind, None, src))

    def _detect(
        self, tree: ast.Module, path: str, kind: FileKind, index: ServiceIndex | None, src: SourceFile
    ) -> Iterator[UsageSite]:
        facts = Facts(tree, path, index)
        uses_tenacity = facts.imports.imports_module("tenacity")
        info = {"tenacity/log-format", "tenacity/jitter-initial"}

        def site(node: ast.AST, rule: str, detail: str = "") -> UsageSite:
            s = self.site(src, node, rule, detail)
            return replace(s, action=Action.INFO) if rule in info else s

        retry_kw_values: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and self._is_retry_call(facts, node):
                kw = keyword(node, "retry")
                if kw is not None:
                    retry_kw_values.add(id(kw.value))
        for node in ast.walk(tree):
            # T1: imports, attribute chains and patch strings
            if isinstance(node, ast.ImportFrom) and not node.level:
                if node.module == "tenacity._asyncio" or (
                    node.module == "tenacity" and any(a.name == "_asyncio" for a in node.names)
                ):
                    yield site(node, "tenacity/asyncio-module", f"`from {node.module} import ...`")
            elif isinstance(node, ast.Import):
                if any(a.name == "tenacity._asyncio" for a in node.names):
                    yield site(node, "tenacity/asyncio-module", "`import tenacity._asyncio`")
            elif isinstance(node, ast.Attribute):
                if (
                    isinstance(node.value, (ast.Name, ast.Attribute))
                    and facts.imports.qualname(node.value) == "tenacity._asyncio"
                ):
                    yield site(node, "tenacity/asyncio-module", f"`{dotted(node) or node.attr}`")
                if (
                    node.attr == "statistics"
                    and isinstance(node.value, ast.Attribute)
                    and node.value.attr == "retry"
                ):
                    recv = node.value.value
                    if isinstance(recv, ast.Name) and recv.id in ("self", "cls"):
                        continue
                    text = ast.unparse(recv)
                    if facts.is_retry_function(recv):
                        yield site(
                            node,
                            "tenacity/retry-statistics",
                            f"`{text}.retry.statistics` -> `{text}.statistics`",
                        )
                    elif index is None and facts.imported_from_elsewhere(recv):
                        yield site(
                            node,
                            "tenacity/retry-statistics",
                            f"`{text}.retry.statistics` -> `{text}.statistics` (when `{text}` is resolved to a "
                            "tenacity-decorated function in the service)",
                        )
                    else:
                        yield site(
                            node,
                            "tenacity/retry-statistics-unresolved",
                            f"could not tell whether `{text}` is a tenacity-decorated function; if it is, read "
                            f"`{text}.statistics` (`.retry.statistics` is empty on tenacity 8.5-9.1)",
                        )
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                if node.value.startswith("tenacity._asyncio"):
                    yield site(
                        node,
                        "tenacity/asyncio-patch-target",
                        f'tenacity._asyncio was removed in 8.4; patch target "{node.value}" no longer exists — '
                        'patch "asyncio.sleep" or pass sleep= to AsyncRetrying.',
                    )
            elif isinstance(node, ast.ClassDef):
                if any(_norm(facts.imports.qualname(b)) in RETRYING_BASES for b in node.bases):
                    defined = [
                        f.name for f in node.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                    ]
                    if "__init__" in defined or "copy" in defined:
                        yield site(
                            node,
                            "tenacity/retrying-subclass",
                            f"Retrying subclass {node.name}: since tenacity 8.4.2 decorated calls run self.copy(), "
                            "which calls __init__ with only the base keywords (plus name=, enabled= in 9.2); accept "
                            "**kwargs and/or override copy().",
                        )
            elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.BitOr, ast.BitAnd)):
                parent = facts.parents.get(node)
                if isinstance(parent, ast.BinOp) and parent.left is node and type(parent.op) is type(node.op):
                    continue  # judged with its whole chain
                verdict = compose_verdict(facts, node, id(node) in retry_kw_values)
                text = ast.unparse(node)
                if verdict == "auto":
                    yield site(node, "tenacity/retry-compose", f"`{text}` -> retry_any/retry_all")
                elif verdict == "human":
                    yield site(
                        node,
                        "tenacity/retry-compose-unresolved",
                        f"`{text}`: if an operand is a plain function this raises AttributeError on tenacity "
                        "8.4-9.1.4; write retry_any(...) / retry_all(...)",
                    )
            elif isinstance(node, ast.Call):
                yield from self._detect_call(facts, node, site, uses_tenacity, kind)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield from self._detect_decorated(facts, node, site)

    def _is_retry_call(self, facts: Facts, node: ast.Call) -> bool:
        if facts.qual(node.func) in RETRY_CALLABLES:
            return True
        return isinstance(node.func, ast.Attribute) and node.func.attr == "retry_with"

    def _detect_call(
        self, facts: Facts, node: ast.Call, site, uses_tenacity: bool, kind: FileKind
    ) -> Iterator[UsageSite]:  # type: ignore[no-untyped-def]
        q = facts.qual(node.func)
        name = dotted(node.func) or ""
        if self._is_retry_call(facts, node):
            wait = keyword(node, "wait")
            if wait is not None and self._impure_wait(facts, wait.value):
                yield site(
                    wait.value,
                    "tenacity/custom-wait",
                    f"custom wait `{ast.unparse(wait.value)}` is now also evaluated on the final attempt "
                    "(tenacity>=8.3); make it side-effect free.",
                )
            for kw_name in CALLBACK_KEYWORDS:
                kw = keyword(node, kw_name)
                if kw is not None and facts.is_async_def(kw.value):
                    yield site(
                        kw.value,
                        "tenacity/async-callback",
                        f"async callback {ast.unparse(kw.value)} ({kw_name}=) is now awaited by tenacity (>=8.3); "
                        "remove manual awaiting of the result.",
                    )
        elif q in ("tenacity.wait_random_exponential", "tenacity.wait_full_jitter"):
            if keyword(node, "min") is not None or len(node.args) >= 4:
                yield site(node, "tenacity/random-exponential-min")
        elif q == "tenacity.before_sleep_log":
            exc = keyword(node, "exc_info")
            value = exc.value if exc is not None else (node.args[2] if len(node.args) >= 3 else None)
            if value is not None and not (isinstance(value, ast.Constant) and not value.value):
                yield site(node, "tenacity/before-sleep-exc-info")
            if keyword(node, "sec_format") is None and len(node.args) < 4:
                yield site(
                    node, "tenacity/log-format", 'before_sleep_log text: "in 3.0 seconds" -> "in 3 seconds"'
                )
        elif q == "tenacity.after_log":
            if keyword(node, "sec_format") is None and len(node.args) < 3:
                yield site(
                    node, "tenacity/log-format", 'after_log text: "after 0.000(s)" -> "after 9.12e-06(s)"'
                )
        elif q == "tenacity.wait_exponential_jitter":
            if keyword(node, "initial") is not None or node.args:
                yield site(node, "tenacity/jitter-initial")
        elif q == "tenacity.wait_chain":
            if not node.args and not node.keywords:
                yield site(node, "tenacity/empty-wait-chain")
        elif uses_tenacity and name in ("inspect.iscoroutine", "asyncio.iscoroutine"):
            yield site(
                node,
                "tenacity/async-callback",
                "manual awaiting of a tenacity result: async callbacks are awaited by tenacity since 8.3; remove the "
                "workaround.",
            )
        if self._patches_asyncio_sleep(facts, node, name):
            yield site(node, "tenacity/patched-asyncio-sleep")

    @staticmethod
    def _patches_asyncio_sleep(facts: Facts, node: ast.Call, name: str) -> bool:
        args = node.args
        strs = [a.value for a in args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        last = name.rsplit(".", 1)[-1]
        target = (
            strs[0] if strs and args and args[0] is not None and isinstance(args[0], ast.Constant) else ""
        )
        hits = target == "asyncio.sleep" or target.endswith(".asyncio.sleep")
        if hits and (last == "patch" or name.endswith("monkeypatch.setattr")):
            return True
        if (name.endswith("patch.object") or name.endswith("monkeypatch.setattr")) and len(args) >= 2:
            return facts.imports.qualname(args[0]) == "asyncio" and strs[:1] == ["sleep"]
        return False

    def _impure_wait(self, facts: Facts, expr: ast.AST, depth: int = 0) -> bool:
        if depth > 6:
            return True
        if isinstance(expr, ast.Constant):
            return False
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
            return self._impure_wait(facts, expr.left, depth + 1) or self._impure_wait(
                facts, expr.right, depth + 1
            )
        if isinstance(expr, ast.Call):
            q = facts.qual(expr.func)
            if q and q.startswith("tenacity.wait_"):
                if q in ("tenacity.wait_chain", "tenacity.wait_combine"):
                    return any(self._impure_wait(facts, a, depth + 1) for a in expr.args)
                return False
            if isinstance(expr.func, ast.Name):
                found = facts._only(expr.func.id, {"class"})
                if found and len(found) == 1:
                    calls = [
                        f for f in found[0][1].body if isinstance(f, ast.FunctionDef) and f.name == "__call__"
                    ]  # type: ignore[attr-defined]
                    if calls:
                        params = calls[0].args.args
                        return not _pure(calls[0], params[1].arg if len(params) > 1 else None)
            return True
        if isinstance(expr, ast.Lambda):
            params = expr.args.args
            return not _pure(expr.body, params[0].arg if params else None)
        if isinstance(expr, ast.Name):
            found = facts.bindings.get(expr.id, [])
            if len(found) == 1 and found[0][0] == "def":
                fn = found[0][1]
                params = fn.args.args  # type: ignore[attr-defined]
                return bool(fn.decorator_list) or not _pure(fn, params[0].arg if params else None)  # type: ignore[attr-defined]
            if len(found) == 1 and found[0][0] == "assign":
                return self._impure_wait(facts, found[0][1], depth + 1)
            q = facts.qual(expr)
            return not (q and q.startswith("tenacity.wait_"))
        return True

    def _detect_decorated(
        self, facts: Facts, fn: ast.FunctionDef | ast.AsyncFunctionDef, site
    ) -> Iterator[UsageSite]:  # type: ignore[no-untyped-def]
        dec = facts.retry_decorator(fn)
        if not isinstance(dec, ast.Call):
            return
        sleep = keyword(dec, "sleep")
        if isinstance(fn, ast.FunctionDef) and sleep is not None:
            if facts.qual(sleep.value) in ASYNC_SLEEPS or facts.is_async_def(sleep.value):
                yield site(
                    fn,
                    "tenacity/sync-async-sleep",
                    f"sync function {fn.name} uses async sleep=; from tenacity 9.1.3 it returns a coroutine. Make "
                    f"{fn.name} async (and await callers) or use a sync sleep.",
                )
        reraise = keyword(dec, "reraise")
        if reraise is not None and isinstance(reraise.value, ast.Constant) and reraise.value.value is True:
            for handler in (n for n in ast.walk(fn) if isinstance(n, ast.ExceptHandler)):
                for node in ast.walk(handler):
                    if isinstance(node, ast.Raise) and node.exc is not None:
                        exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
                        if facts.qual(exc) == "tenacity.TryAgain":
                            yield site(node, "tenacity/reraise-tryagain")

    def detect_config(self, cfg: ConfigFile) -> Iterable[UsageSite]:
        rule, human = self._python_floor(cfg, Version("9.1.2"))
        if rule is None or not human:
            return []
        line = next(
            (
                i
                for i, ln in enumerate(cfg.text.splitlines(), 1)
                if "python_requires" in ln or "requires-python" in ln
            ),
            0,
        )
        return [self.site(cfg, line, "tenacity/python-floor", rule)]

    def _python_floor(self, cfg: ConfigFile, floor: Version) -> tuple[str | None, bool]:
        """(message, needs a human) about the service's Python floor, or (None, False)."""
        spec = _requires_python(cfg)
        if spec is None:
            return None, False
        if spec.contains("3.8") or spec.contains("3.7"):
            return (
                f"requires-python {spec} admits Python <3.9; tenacity>=9.1.2 needs >=3.9 (9.1.3+ need >=3.10)",
                True,
            )
        if spec.contains("3.9"):
            if floor < Version("9.1.3"):
                return (f"requires-python {spec} admits Python 3.9: the resolver stops at tenacity 9.1.2 there "
                        "(9.1.3+ need >=3.10)"), False  # fmt: skip
            return f"requires-python {spec} admits Python 3.9; tenacity>=9.1.3 needs >=3.10", True
        return None, False

    # ---- rewriting ---------------------------------------------------------------------------------

    def target_floor(self, ctx: RewriteContext) -> Version:
        """The oldest known release the campaign's target admits."""
        try:
            spec = SpecifierSet(ctx.targets.get(self.package, self.migrates_to))
        except InvalidSpecifier:
            return Version("9.1.2")
        admitted = [Version(v) for v in self.known_versions if spec.contains(v)]
        return min(admitted) if admitted else Version("9.1.2")

    def rewrite_service(self, ctx: RewriteContext) -> ServiceRewrite:
        out = ServiceRewrite()
        index = ServiceIndex(ctx.files)
        for path, text in ctx.files.items():
            if path.endswith(".py"):
                if not any(t.decode() in text for t in self.tokens):
                    continue
                res = self._rewrite_python(path, text, file_kind(path), ctx, index)
            else:
                kind = config_kind(path)
                if kind not in ("pyproject.toml", "setup.cfg"):
                    continue
                res = self.rewrite_config(ConfigFile(path, text, kind), ctx)
            if res.text != text:
                out.texts[path] = res.text
            out.findings.extend(res.findings)
        return out

    def rewrite_python(self, path: str, text: str, kind: FileKind, ctx: RewriteContext) -> RewriteResult:
        return self._rewrite_python(path, text, kind, ctx, ServiceIndex(ctx.files))

    def _rewrite_python(
        self, path: str, text: str, kind: FileKind, ctx: RewriteContext, index: ServiceIndex
    ) -> RewriteResult:
        try:
            tree = ast.parse(text)
            module = cst.parse_module(text)
        except (SyntaxError, cst.ParserSyntaxError) as exc:
            return RewriteResult(
                text,
                [
                    Finding(
                        path,
                        0,
                        "tenacity/asyncio-module",
                        f"could not parse: {exc}",
                        Severity.ERROR,
                        CHANGELOG,
                        self.id,
                    )
                ],
            )
        facts = Facts(tree, path, index)
        transformer = _Rewriter(facts, module, self.target_floor(ctx))
        new = module.visit(transformer)
        if transformer.needed_imports:
            adder = _AddTenacityNames(sorted(transformer.needed_imports))
            new = new.visit(adder)
            if not adder.done:
                context = CodemodContext()
                for name in adder.names:
                    AddImportsVisitor.add_needed_import(context, "tenacity", name)
                new = AddImportsVisitor(context).transform_module(new)
        new_text = new.code
        findings: list[Finding] = []
        after = SourceFile(path, new_text, ast.parse(new_text), kind)
        for s in self._detect(after.tree, path, kind, index, after):
            if s.action is Action.INFO:
                continue
            rule = self.rule(s.rule)
            detail = s.detail if s.detail != rule.summary else f"{rule.summary}; {rule.fix}"
            message = detail if s.action is Action.HUMAN else f"not rewritten automatically here: {detail}"
            findings.append(self.finding(path, s.line, s.rule, message, Severity.HUMAN))
        return RewriteResult(new_text, findings)

    def rewrite_config(self, cfg: ConfigFile, ctx: RewriteContext) -> RewriteResult:
        message, human = self._python_floor(cfg, self.target_floor(ctx))
        if message is None:
            return RewriteResult(cfg.text)
        line = next(
            (
                i
                for i, ln in enumerate(cfg.text.splitlines(), 1)
                if "python_requires" in ln or "requires-python" in ln
            ),
            0,
        )
        sev = Severity.HUMAN if human else Severity.ADVICE
        return RewriteResult(cfg.text, [self.finding(cfg.path, line, "tenacity/python-floor", message, sev)])


def _requires_python(cfg: ConfigFile) -> SpecifierSet | None:
    raw: str | None = None
    try:
        if cfg.kind == "pyproject.toml":
            raw = tomllib.loads(cfg.text).get("project", {}).get("requires-python")
        elif cfg.kind == "setup.cfg":
            parser = configparser.ConfigParser(interpolation=None)
            parser.read_string(cfg.text)
            raw = parser.get("options", "python_requires", fallback=None)
        return SpecifierSet(raw) if raw else None
    except (tomllib.TOMLDecodeError, configparser.Error, InvalidSpecifier):
        return None


# ---- LibCST rewriting ---------------------------------------------------------------------------------


def _kwarg(name: str, value: cst.BaseExpression) -> cst.Arg:
    return cst.Arg(
        value=value,
        keyword=cst.Name(name),
        equal=cst.AssignEqual(
            whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")
        ),
    )


def _append_arg(call: cst.Call, arg: cst.Arg) -> cst.Call:
    args = list(call.args)
    last = args[-1]
    if isinstance(last.comma, cst.Comma):
        if len(args) > 1 and isinstance(args[-2].comma, cst.Comma):
            args[-1] = last.with_changes(comma=args[-2].comma)
        args.append(arg.with_changes(comma=last.comma))
    else:
        args[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        args.append(arg)
    return call.with_changes(args=args)


class _Rewriter(cst.CSTTransformer):
    """Applies the automatic tenacity rules to one module, judging names with the module's `Facts`."""

    def __init__(self, facts: Facts, module: cst.Module, floor: Version) -> None:
        self.facts, self.module, self.floor = facts, module, floor
        self.needed_imports: set[str] = set()
        self.alias_ok = self._asyncio_aliases_ok()

    def _ast(self, node: cst.CSTNode) -> ast.expr:
        return ast.parse("(" + self.module.code_for_node(node) + ")", mode="eval").body

    def _asyncio_aliases_ok(self) -> dict[str, bool]:
        """For names bound to the `tenacity._asyncio` module: may the import move to `tenacity.asyncio`?"""
        out: dict[str, bool] = {}
        for local, qual in self.facts.imports.names.items():
            if qual == "tenacity._asyncio" and local != "tenacity":
                out[local] = True
        for node in ast.walk(self.facts.tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in out:
                if node.attr not in ASYNCIO_NAMES | {"AsyncRetrying"}:
                    out[node.value.id] = False
        return out

    # T1 -------------------------------------------------------------------------------------------

    def _split_asyncio_import(self, node: cst.ImportFrom) -> list[cst.ImportFrom] | None:
        if isinstance(node.names, cst.ImportStar):
            return None
        groups: dict[str, list[cst.ImportAlias]] = {}
        for alias in node.names:
            name = alias.name.value if isinstance(alias.name, cst.Name) else ""
            module = (
                "tenacity" if name == "AsyncRetrying"
                else "tenacity.asyncio" if name in ASYNCIO_NAMES
                else "asyncio" if name == "sleep"
                else None
            )  # fmt: skip
            if module is None:
                return None
            groups.setdefault(module, []).append(alias)
        if len(groups) == 1:
            [(module, _)] = groups.items()
            return [node.with_changes(module=cst.parse_expression(module))]
        if "#" in self.module.code_for_node(node):
            return None  # comments inside a parenthesised import would be lost
        out = []
        for module, aliases in groups.items():
            names = [a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in aliases]
            names = [
                n.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
                for n in names[:-1]
            ] + names[-1:]
            out.append(cst.ImportFrom(module=cst.parse_expression(module), names=names))  # type: ignore[arg-type]
        return out

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine | cst.FlattenSentinel[cst.SimpleStatementLine]:
        if len(updated_node.body) != 1 or not isinstance(updated_node.body[0], cst.ImportFrom):
            return updated_node
        imp = updated_node.body[0]
        if imp.relative or imp.module is None or self.module.code_for_node(imp.module) != "tenacity._asyncio":
            return updated_node
        parts = self._split_asyncio_import(imp)
        if parts is None or len(parts) == 1:
            return updated_node.with_changes(body=parts) if parts else updated_node
        lines = [updated_node.with_changes(body=[parts[0]], trailing_whitespace=cst.TrailingWhitespace())]
        lines += [cst.SimpleStatementLine(body=[p]) for p in parts[1:-1]]
        lines.append(
            cst.SimpleStatementLine(body=[parts[-1]], trailing_whitespace=updated_node.trailing_whitespace)
        )
        return cst.FlattenSentinel(lines)

    def leave_ImportFrom(self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom) -> cst.ImportFrom:
        if (
            updated_node.relative
            or updated_node.module is None
            or isinstance(updated_node.names, cst.ImportStar)
        ):
            return updated_node
        if self.module.code_for_node(updated_node.module) != "tenacity":
            return updated_node
        names = []
        for alias in updated_node.names:
            if isinstance(alias.name, cst.Name) and alias.name.value == "_asyncio":
                local = alias.asname.name.value if alias.asname else "_asyncio"  # type: ignore[union-attr]
                if not self.alias_ok.get(local, False):
                    return updated_node
                alias = alias.with_changes(
                    name=cst.Name("asyncio"),
                    asname=alias.asname or cst.AsName(name=cst.Name("_asyncio")),
                )
            names.append(alias)
        return updated_node.with_changes(names=names)

    def leave_Import(self, original_node: cst.Import, updated_node: cst.Import) -> cst.Import:
        names = []
        for alias in updated_node.names:
            if self.module.code_for_node(alias.name) == "tenacity._asyncio":
                local = alias.asname.name.value if alias.asname else None  # type: ignore[union-attr]
                if local is not None and not self.alias_ok.get(local, False):
                    return updated_node
                alias = alias.with_changes(name=cst.parse_expression("tenacity.asyncio"))
            names.append(alias)
        return updated_node.with_changes(names=names)

    def leave_Attribute(
        self, original_node: cst.Attribute, updated_node: cst.Attribute
    ) -> cst.BaseExpression:
        attr = updated_node.attr.value
        value = updated_node.value
        # T1: tenacity._asyncio.X
        if isinstance(value, cst.Attribute) and value.attr.value == "_asyncio":
            if self.facts.imports.qualname(self._ast(original_node.value)) == "tenacity._asyncio":
                if attr == "AsyncRetrying":
                    return updated_node.with_changes(value=value.value)
                if attr in ASYNCIO_NAMES:
                    return updated_node.with_changes(value=value.with_changes(attr=cst.Name("asyncio")))
        # T2: f.retry.statistics -> f.statistics
        if attr == "statistics" and isinstance(value, cst.Attribute) and value.attr.value == "retry":
            original_value = original_node.value
            assert isinstance(original_value, cst.Attribute)
            if self.facts.is_retry_function(self._ast(original_value.value)):
                return updated_node.with_changes(value=value.value)
        return updated_node

    # T7 -------------------------------------------------------------------------------------------

    def leave_BinaryOperation(
        self, original_node: cst.BinaryOperation, updated_node: cst.BinaryOperation
    ) -> cst.BaseExpression:
        op = updated_node.operator
        if not isinstance(op, (cst.BitOr, cst.BitAnd)):
            return updated_node
        parsed = self._ast(original_node)
        if not isinstance(parsed, ast.BinOp) or compose_verdict(self.facts, parsed, True) != "auto":
            return updated_node
        if not original_node.lpar and self._is_inner_of_chain(original_node):
            return updated_node
        operands: list[cst.BaseExpression] = []
        node: cst.BaseExpression = updated_node
        while (
            isinstance(node, cst.BinaryOperation)
            and type(node.operator) is type(op)
            and (node is updated_node or not node.lpar)
        ):
            operands.append(node.right)
            node = node.left
        operands.append(node)
        operands.reverse()
        func = self._combinator("retry_any" if isinstance(op, cst.BitOr) else "retry_all", parsed)
        if func is None:
            return updated_node
        args = [cst.Arg(value=o) for o in operands]
        args = [
            a.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))) for a in args[:-1]
        ] + args[-1:]
        return cst.Call(func=func, args=args, lpar=updated_node.lpar, rpar=updated_node.rpar)

    def _is_inner_of_chain(self, node: cst.BinaryOperation) -> bool:
        return id(node) in self._inner_ids

    def visit_Module(self, node: cst.Module) -> None:
        self._inner_ids: set[int] = set()
        for n in _walk_cst(node):
            if isinstance(n, cst.BinaryOperation) and isinstance(n.left, cst.BinaryOperation):
                if type(n.left.operator) is type(n.operator) and not n.left.lpar:
                    self._inner_ids.add(id(n.left))

    def _combinator(self, name: str, parsed: ast.BinOp) -> cst.BaseExpression | None:
        facts = self.facts
        if _norm(facts.imports.names.get(name)) == f"tenacity.{name}":
            return cst.Name(name)
        for operand in ast.walk(parsed):
            if isinstance(operand, ast.Call) and isinstance(operand.func, ast.Attribute):
                if facts.imports.qualname(operand.func.value) == "tenacity":
                    return cst.Attribute(
                        value=cst.parse_expression(ast.unparse(operand.func.value)), attr=cst.Name(name)
                    )
        if name in facts.bindings:
            return None
        self.needed_imports.add(name)
        return cst.Name(name)

    # T10, T13 ---------------------------------------------------------------------------------------

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if not isinstance(updated_node.func, (cst.Name, cst.Attribute)):
            return updated_node
        q = self.facts.qual(self._ast(original_node.func))
        if q not in ("tenacity.after_log", "tenacity.before_sleep_log", "tenacity.wait_exponential_jitter"):
            return updated_node
        args = updated_node.args
        if any(a.star for a in args):
            return updated_node
        keywords = {a.keyword.value for a in args if a.keyword is not None}
        positional = sum(1 for a in args if a.keyword is None)
        if q == "tenacity.after_log" and "sec_format" not in keywords and positional < 3 and args:
            return _append_arg(updated_node, _kwarg("sec_format", cst.SimpleString('"%0.3f"')))
        if (
            q == "tenacity.before_sleep_log"
            and self.floor >= Version("9.1.3")
            and "sec_format" not in keywords
            and positional < 4
            and args
        ):
            return _append_arg(updated_node, _kwarg("sec_format", cst.SimpleString('"%s"')))
        if (
            q == "tenacity.wait_exponential_jitter"
            and self.floor >= Version("9.2")
            and "multiplier" not in keywords
        ):
            names = ["multiplier", "max", "exp_base", "jitter"]
            new_args = []
            for i, a in enumerate(args):
                if a.keyword is None and i < len(names):
                    a = a.with_changes(keyword=cst.Name(names[i]), equal=_kwarg("x", a.value).equal)
                elif a.keyword is not None and a.keyword.value == "initial":
                    a = a.with_changes(keyword=cst.Name("multiplier"))
                new_args.append(a)
            return updated_node.with_changes(args=new_args)
        return updated_node


class _AddTenacityNames(cst.CSTTransformer):
    """Appends names to the first module-level `from tenacity import ...` (keeping its layout)."""

    def __init__(self, names: list[str]) -> None:
        self.names, self.done, self.depth = names, False, 0

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.depth += 1

    def leave_FunctionDef(
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ) -> cst.FunctionDef:
        self.depth -= 1
        return updated_node

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.depth += 1

    def leave_ClassDef(self, original_node: cst.ClassDef, updated_node: cst.ClassDef) -> cst.ClassDef:
        self.depth -= 1
        return updated_node

    def leave_ImportFrom(self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom) -> cst.ImportFrom:
        if self.done or self.depth or updated_node.relative or isinstance(updated_node.names, cst.ImportStar):
            return updated_node
        if updated_node.module is None or cst.Module([]).code_for_node(updated_node.module) != "tenacity":
            return updated_node
        names = list(updated_node.names)
        added = [cst.ImportAlias(name=cst.Name(n)) for n in self.names]
        last = names[-1]
        if isinstance(last.comma, cst.Comma):
            between = (
                names[-2].comma if len(names) > 1 and isinstance(names[-2].comma, cst.Comma) else last.comma
            )
            names[-1] = last.with_changes(comma=between)
            names += [a.with_changes(comma=between) for a in added[:-1]] + [
                added[-1].with_changes(comma=last.comma)
            ]
        else:
            space = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
            names[-1] = last.with_changes(comma=space)
            names += [a.with_changes(comma=space) for a in added[:-1]] + added[-1:]
        self.done = True
        return updated_node.with_changes(names=names)


def _walk_cst(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(n.children)


RECIPE = TenacityRecipe()
