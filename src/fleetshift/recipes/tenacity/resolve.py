"""What names in a service stand for (stdlib `ast` only): retried functions, plain functions and retry
strategies, followed through imports across the service's modules.

`Facts` is the one frozen record of a module that every rule's `check` and `Fix` reads: built once per file
(names, bindings, parents, the nodes of each kind in walk order), with the `ServiceIndex` of the service's
other modules when a whole service is rewritten.
"""

from __future__ import annotations

import ast
import functools
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from fleetshift.recipes._ast import Imports, by_class, decorator_calls, keyword, parse_tree, walk
from fleetshift.recipes.rule import Scope

SUBMODULE = re.compile(r"^tenacity\.(?:retry|wait|stop|before|after|before_sleep|nap|_asyncio)\.(\w+)$")
RETRY_CALLABLES = frozenset(
    {"tenacity.retry", "tenacity.Retrying", "tenacity.AsyncRetrying", "tenacity.asyncio.AsyncRetrying"}
)

Key = tuple[int, int, int, int]  # a node's span: line, column, end line, end column (columns in characters)


def norm(qual: str | None) -> str | None:
    """`tenacity.wait.wait_fixed` -> `tenacity.wait_fixed`; `tenacity._asyncio.AsyncRetrying` -> top level."""
    if qual is None:
        return None
    m = SUBMODULE.match(qual)
    if m and (not qual.startswith("tenacity._asyncio.") or m.group(1) == "AsyncRetrying"):
        return f"tenacity.{m.group(1)}"
    if qual == "tenacity.asyncio.AsyncRetrying":
        return "tenacity.AsyncRetrying"
    return qual


def module_parts(path: str) -> list[str]:
    parts = path[: -len(".py")].split("/")
    return parts[:-1] if parts[-1] == "__init__" else parts


def retry_decorator(
    imports: Imports, fn: ast.FunctionDef | ast.AsyncFunctionDef
) -> ast.Call | ast.expr | None:
    """The tenacity `retry` decorator of `fn` (its Call, or the bare name), if any."""
    for callee, call in decorator_calls(fn):
        if norm(imports.qualname(callee)) == "tenacity.retry":
            return call or callee
    return None


@dataclass
class ModuleSummary:
    """What other modules may import from one module: its plain functions, retried functions, strategies."""

    plain_funcs: set[str] = field(default_factory=set)
    retry_funcs: set[str] = field(default_factory=set)
    retry_methods: set[str] = field(default_factory=set)
    method_names: set[str] = field(default_factory=set)
    strategies: set[str] = field(default_factory=set)
    uses_tenacity: bool = False
    path: str = ""  # the module's file, to build its facts again when a rule must look inside it


class ServiceIndex:
    """Module summaries of every Python file of a service, found by dotted-name suffix.

    Lazy: a module is parsed only when a question needs it (the module an import names, the modules whose text
    holds `tenacity` or the method name asked about), so detection over a whole service stays cheap and the
    answers are those of parsing every module."""

    def __init__(self, files: Mapping[str, str]) -> None:
        self.modules: list[tuple[list[str], str]] = [(module_parts(p), p) for p in files if p.endswith(".py")]
        self.files = files
        self.summaries: dict[str, ModuleSummary | None] = {}
        self.facts: dict[str, Facts] = {}  # built on demand: a service's trees are not all kept
        self._uses: bool | None = None
        self._strategies: frozenset[str] | None = None

    def summary_of(self, path: str) -> ModuleSummary | None:
        """The summary of one module (None when it does not parse), computed once per text: a summary reads the
        module alone, so the indexes of one service's files share it (see `TenacityRecipe.detect_file`)."""
        if path not in self.summaries:
            text = self.files[path]
            key = (path, text)
            found = _SUMMARIES.get(key, _UNKNOWN)  # (read once: another thread's service may `forget` meanwhile)
            if found is _UNKNOWN:
                try:
                    tree = parse_tree(text)
                except (SyntaxError, ValueError, RecursionError):
                    found = None
                else:
                    found = replace(Facts.of(tree, text, path).summary(), path=path)
                _SUMMARIES[key] = found
                if len(_SUMMARIES) > 256:  # a scan with the collector off never forgets: a service's worth is kept
                    try:
                        _SUMMARIES.pop(next(iter(_SUMMARIES)), None)
                    except (StopIteration, RuntimeError):  # emptied or changed meanwhile by another thread
                        pass
            self.summaries[path] = found  # type: ignore[assignment]
        return self.summaries[path]

    def _summaries(self, needle: str) -> Iterator[ModuleSummary]:
        """The summaries of the modules whose text holds `needle` (no other module can answer the question)."""
        for _, path in self.modules:
            if needle in self.files[path] and (s := self.summary_of(path)) is not None:
                yield s

    def facts_of(self, summary: ModuleSummary) -> Facts:
        """The facts of a summarised module (parsed again once, then kept)."""
        if summary.path not in self.facts:
            text = self.files[summary.path]
            self.facts[summary.path] = Facts.of(parse_tree(text), text, summary.path, self)
        return self.facts[summary.path]

    def lookup(self, module: str) -> ModuleSummary | None:
        want = module.split(".")
        hits = [p for parts, p in self.modules if parts[-len(want) :] == want]
        return self.summary_of(hits[0]) if len(hits) == 1 else None

    def has_retry_method(self, name: str) -> bool:
        """Whether a module of the service defines a tenacity-retried method `name`."""
        return any(name in s.retry_methods for s in self._summaries("tenacity") if name in s.method_names)

    def has_plain_method(self, name: str) -> bool:
        """Whether a module of the service defines a method `name` that tenacity does not retry."""
        return any(name in s.method_names - s.retry_methods for s in self._summaries(name))

    def uses_tenacity(self, first: str = "") -> bool:
        """Whether any Python file of the service imports tenacity (asked once per service); the module `first` is
        asked first, so that a module importing tenacity answers for itself without reading the others (what a
        file's detection reads is all it depends on: see `Recipe.detect_file`)."""
        if first in self.files and "tenacity" in self.files[first] and self._imports_tenacity(first):
            return True
        if self._uses is None:  # the modules read in the same order, up to the same first one importing tenacity
            self._uses = any(self._viewed(path) or ((s := self.summary_of(path)) is not None and s.uses_tenacity)
                             for _, path in self.modules if "tenacity" in self.files[path])
        return self._uses

    def _imports_tenacity(self, path: str) -> bool:
        """`summary_of(path).uses_tenacity` (False when it does not parse), read off the module's imports alone when
        its summary is not made yet: the summary's other parts walk the whole module, and a module asking whether it
        imports tenacity itself seldom needs them."""
        summary = self.summaries.get(path, _UNKNOWN)
        if summary is _UNKNOWN:
            text = self.files[path]
            summary = _SUMMARIES.get((path, text), _UNKNOWN)
            if summary is _UNKNOWN:
                if self._viewed(path):
                    return True
                try:
                    tree = parse_tree(text)
                except (SyntaxError, ValueError, RecursionError):
                    return False
                return Facts.of(tree, text, path).uses_tenacity
        return summary is not None and summary.uses_tenacity  # type: ignore[union-attr]

    def _viewed(self, path: str) -> bool:
        """Whether a sparse view made of the module's text (`sparse.views_of`) imports tenacity: its statements are
        the module's, so the module does too (the view is parsed already, where the whole module may not be)."""
        from fleetshift.recipes import sparse

        for view in sparse.views_of(self.files[path]):
            try:
                tree = parse_tree(view)
            except (SyntaxError, ValueError, RecursionError):
                continue
            if Facts.of(tree, view, path).uses_tenacity:
                return True
        return False

    def strategy_names(self) -> frozenset[str]:
        """The names every module of the service binds to a retry strategy at its top level. Only a module naming
        tenacity binds one (a summary is made without the service, so it does not follow imports): a module
        naming none of these can compose no strategy imported from the service."""
        if self._strategies is None:
            self._strategies = frozenset(
                name
                for _, path in self.modules
                if mentions(self.files[path], "tenacity") and (s := self.summary_of(path)) is not None
                for name in s.strategies
            )
        return self._strategies


# the summaries of the modules read so far, by path and text (`ServiceIndex.summary_of`)
_SUMMARIES: dict[tuple[str, str], ModuleSummary | None] = {}
_UNKNOWN = object()
# the last walks, by tree (kept with it, so its id is not reused while it is here), text and path
_WALKED: dict[tuple[int, str, str], Facts] = {}

Binding = tuple[str, ast.AST]  # (kind: def, class, assign, import, other; the node it is bound to)


GATES = True  # the rules ask the text first (off: every question is answered by the walks, as a proof's twin)


def forget() -> None:
    """Drop the walks and summaries kept so far (see `_ast.forget`)."""
    _WALKED.clear()
    _SUMMARIES.clear()


def mentions(text: str, word: str) -> bool:
    """Whether `word` is written in `text`, as it is or as the parser reads a non-ASCII identifier (NFKC): a
    module can name an identifier, an import or an attribute only by writing it."""
    return not GATES or word in text or (not text.isascii() and word in unicodedata.normalize("NFKC", text))


class Walked:
    """What one module's walks found, each part computed when a question first needs it and shared by every
    `Facts` of the module (judged alone, with its service, with a scope): most modules holding a token are
    asked nothing that needs a walk (their text names neither tenacity nor a name the rules look for)."""

    def __init__(self, tree: ast.Module, text: str, path: str) -> None:
        self.tree, self.text, self.path = tree, text, path
        self._words: dict[str, bool] = {}

    def mentions(self, word: str) -> bool:
        """Whether the module's text names `word` (always true when the text is not known)."""
        if not GATES:
            return True
        found = self._words.get(word)
        if found is None:
            found = self._words[word] = not self.text or mentions(self.text, word)
        return found

    @functools.cached_property
    def imports(self) -> Imports:
        return Imports(self.tree)

    @functools.cached_property
    def kinds(self) -> dict[type, tuple[ast.AST, ...]]:
        """The module's nodes of each type, in `ast.walk` order."""
        return by_class(walk(self.tree))

    @functools.cached_property
    def parents(self) -> dict[ast.AST, ast.AST]:
        parents: dict[ast.AST, ast.AST] = {}
        for node in walk(self.tree):
            for name in node._fields:  # ast.iter_child_nodes, inline
                value = getattr(node, name, None)
                if isinstance(value, ast.AST):
                    parents[value] = node
                elif value.__class__ is list:
                    for child in value:
                        if isinstance(child, ast.AST):
                            parents[child] = node
        return parents

    @functools.cached_property
    def lines(self) -> tuple[str, ...]:
        return tuple(self.text.splitlines())

    @functools.cached_property
    def retry_calls(self) -> tuple[ast.Call, ...]:
        """Calls to `retry`, `Retrying`, `AsyncRetrying` and `.retry_with`, in walk order."""
        names = self.imports
        return tuple(
            node  # type: ignore[misc]
            for node in self.kinds.get(ast.Call, ())
            if norm(names.qualname(node.func)) in RETRY_CALLABLES  # type: ignore[attr-defined]
            or (isinstance(node.func, ast.Attribute) and node.func.attr == "retry_with")  # type: ignore[attr-defined]
        )

    @functools.cached_property
    def methods(self) -> tuple[frozenset[str], frozenset[str]]:
        """The names of the methods of the module's classes, and of those tenacity retries."""
        method_names: set[str] = set()
        retry_methods: set[str] = set()
        for node in self.kinds.get(ast.ClassDef, ()):
            for item in node.body:  # type: ignore[attr-defined]
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    method_names.add(item.name)
                    if retry_decorator(self.imports, item):
                        retry_methods.add(item.name)
        return frozenset(method_names), frozenset(retry_methods)

    @functools.cached_property
    def binds(self) -> tuple[dict[str, tuple[str, str]], dict[str, tuple[Binding, ...]]]:
        """from-imports (local -> (absolute module, name)) and what each name is bound to, in walk order."""
        package = module_parts(self.path)[:-1] if self.path else []
        from_imports: dict[str, tuple[str, str]] = {}
        bindings: dict[str, list[Binding]] = {}

        def bind(name: str, kind: str, node: ast.AST) -> None:
            bindings.setdefault(name, []).append((kind, node))

        def bind_names(target: ast.AST) -> None:
            """Bind every name in an assignment target (tuple, starred, ...) to a value not known here."""
            for n in ast.walk(target):
                if isinstance(n, ast.Name):
                    bind(n.id, "other", n)

        for node in walk(self.tree):
            if node.__class__ not in _BINDERS:
                continue
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                bind(node.name, "def", node)
                for a in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]:
                    bind(a.arg, "other", a)
                for a in (node.args.vararg, node.args.kwarg):
                    if a:
                        bind(a.arg, "other", a)
            elif isinstance(node, ast.ClassDef):
                bind(node.name, "class", node)
            elif isinstance(node, ast.Lambda):
                for a in node.args.args:
                    bind(a.arg, "other", a)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                if node.value is None:
                    continue
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    if isinstance(t, ast.Name):
                        bind(t.id, "assign", node.value)
                    else:
                        bind_names(t)
            elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension, ast.AugAssign, ast.NamedExpr)):
                bind_names(node.target)
            elif isinstance(node, ast.withitem):
                if node.optional_vars is not None:
                    bind_names(node.optional_vars)
            elif isinstance(node, ast.ExceptHandler):
                if node.name:
                    bind(node.name, "other", node)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    bind(alias.asname or alias.name.split(".")[0], "import", node)
            elif isinstance(node, ast.ImportFrom):
                module = node.module or ""
                if node.level:
                    base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                    module = ".".join([*base, *([module] if module else [])])
                for alias in node.names:
                    bind(alias.asname or alias.name, "import", node)
                    from_imports[alias.asname or alias.name] = (module, alias.name)
        return from_imports, {k: tuple(v) for k, v in bindings.items()}


# the node types that bind a name (what `Walked.binds` looks at)
_BINDERS = frozenset({
    ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.Assign, ast.AnnAssign, ast.For,
    ast.AsyncFor, ast.comprehension, ast.AugAssign, ast.NamedExpr, ast.withitem, ast.ExceptHandler, ast.Import,
    ast.ImportFrom,
})  # fmt: skip


@dataclass(frozen=True)
class Facts:
    """One module's names and what they stand for (retried function, plain function, strategy); build it
    with `Facts.of`. `index` holds the service's other modules (None when one file is scanned alone) and
    `scope` what the campaign targets (None when detecting). Every part of the module's walks is computed
    when first read (see `Walked`); a rule asks `mentions` first, so a module whose text cannot hold its
    sites is never walked for it."""

    tree: ast.Module
    path: str
    index: ServiceIndex | None
    walked: Walked
    scope: Scope | None = None
    memo: dict[str, object] = field(default_factory=dict, init=False, compare=False, repr=False)

    @classmethod
    def of(
        cls,
        tree: ast.Module,
        text: str = "",
        path: str = "",
        index: ServiceIndex | None = None,
        scope: Scope | None = None,
    ) -> Facts:
        key = (id(tree), text, path)
        bare = _WALKED.get(key)
        if bare is None or bare.tree is not tree:
            bare = cls(tree, path, None, Walked(tree, text, path))
            _WALKED[key] = bare
            if len(_WALKED) > 256:
                _WALKED.pop(next(iter(_WALKED), None), None)  # (`forget` may have emptied it since, in another thread)
        return bare if index is None and scope is None else replace(bare, index=index, scope=scope)

    def checked(self, check: Callable[[Facts], Iterable[tuple[Any, ...]]]) -> list[tuple[Any, ...]]:
        """What a rule's `check` yields on these facts, computed once: the detection of a module and the fixes
        applied to it with the same facts ask the same question."""
        key = f"check:{check.__module__}.{check.__qualname__}"
        found = self.memo.get(key)
        if found is None:
            found = self.memo[key] = list(check(self))
        return found  # type: ignore[return-value]

    # ---- what the module's text names ------------------------------------------------------------

    def mentions(self, word: str) -> bool:
        """Whether the module's text names `word` (see `mentions`): no site of a rule that needs `word`
        written (an import of tenacity, a `.retry_with`, a `.statistics`) can be in a module without it."""
        return self.walked.mentions(word)

    def writes(self, *strings: str) -> bool:
        """Whether the module's text holds one of `strings` as written (always true when the text is not known)."""
        text = self.walked.text
        return not GATES or not text or any(s in text for s in strings)

    @property
    def tenacity(self) -> bool:
        """Whether the module's text names tenacity: nothing else can resolve to a tenacity name."""
        return self.walked.mentions("tenacity")

    @property
    def may_retry(self) -> bool:
        """Whether the module may hold a retry call (`retry`, `Retrying`, `AsyncRetrying`, `.retry_with`)."""
        return self.tenacity or self.walked.mentions("retry_with")

    # ---- the module's walks, computed on first use -------------------------------------------------

    @property
    def imports(self) -> Imports:
        return self.walked.imports

    @property
    def from_imports(self) -> Mapping[str, tuple[str, str]]:  # local -> (absolute module, name)
        return self.walked.binds[0]

    @property
    def bindings(self) -> Mapping[str, tuple[Binding, ...]]:
        return self.walked.binds[1]

    @property
    def method_names(self) -> frozenset[str]:
        return self.walked.methods[0]

    @property
    def retry_methods(self) -> frozenset[str]:
        return self.walked.methods[1]

    @property
    def parents(self) -> Mapping[ast.AST, ast.AST]:
        return self.walked.parents

    @property
    def kinds(self) -> Mapping[type, tuple[ast.AST, ...]]:  # the module's nodes of each type, in walk order
        return self.walked.kinds

    @property
    def lines(self) -> tuple[str, ...]:
        return self.walked.lines

    # ---- the module's nodes ------------------------------------------------------------------------

    def nodes(self, *types: type[ast.AST]) -> Iterator[ast.AST]:
        """The module's nodes of these types (each type's in walk order)."""
        for t in types:
            yield from self.kinds.get(t, ())

    def key(self, node: ast.AST) -> Key:
        """Where `node` stands, as LibCST's PositionProvider gives it (columns in characters, not bytes)."""
        return (
            node.lineno,
            self._chars(node.lineno, node.col_offset),
            node.end_lineno or 0,
            self._chars(node.end_lineno or 0, node.end_col_offset or 0),
        )  # type: ignore[attr-defined]

    def _chars(self, line: int, col: int) -> int:
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        return col if text.isascii() else len(text.encode()[:col].decode(errors="ignore"))

    @property
    def uses_tenacity(self) -> bool:
        return self.imports.imports_module("tenacity")

    # ---- resolution --------------------------------------------------------------------------

    def qual(self, node: ast.AST) -> str | None:
        """The normalised dotted name `node` refers to through the imports, or None."""
        return norm(self.imports.qualname(node))

    def imported(self, name: str) -> tuple[ModuleSummary, str] | None:
        """The summary of the service module `name` is imported from, and its name there."""
        if self.index is None or name not in self.from_imports:
            return None
        if any(kind != "import" for kind, _ in self.bindings.get(name, ())):
            return None
        module, attr = self.from_imports[name]
        summary = self.index.lookup(module) if module else None
        return (summary, attr) if summary else None

    def imported_facts(self, name: str) -> tuple[Facts, str] | None:
        """The facts of the service module `name` is imported from, and its name there."""
        imported = self.imported(name)
        if imported is None or self.index is None:
            return None
        return self.index.facts_of(imported[0]), imported[1]

    def retry_decorator(self, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.Call | ast.expr | None:
        """The tenacity `retry` decorator of `fn` (its Call, or the bare name), if any."""
        return retry_decorator(self.imports, fn)

    def is_retry_call(self, node: ast.Call) -> bool:
        """A call to `retry`, `Retrying`, `AsyncRetrying` or `.retry_with`."""
        if self.qual(node.func) in RETRY_CALLABLES:
            return True
        return isinstance(node.func, ast.Attribute) and node.func.attr == "retry_with"

    def retry_calls(self) -> Iterator[ast.Call]:
        return iter(self.walked.retry_calls)

    def only(self, name: str, kinds: set[str]) -> tuple[Binding, ...] | None:
        """The bindings of `name` when there are some and all are of these kinds."""
        found = self.bindings.get(name, ())
        return found if found and all(k in kinds for k, _ in found) else None

    def is_plain_function(self, expr: ast.AST) -> bool:
        """A lambda, or a name bound only to undecorated defs/lambdas (here or in an imported service module)."""
        if isinstance(expr, ast.Lambda):
            return True
        if not isinstance(expr, ast.Name):
            return False
        imported = self.imported(expr.id)
        if imported:
            return imported[1] in imported[0].plain_funcs
        found = self.only(expr.id, {"def", "assign"})
        return bool(found) and all(
            (kind == "def" and not node.decorator_list)  # type: ignore[attr-defined]
            or (kind == "assign" and isinstance(node, ast.Lambda))
            for kind, node in found  # type: ignore[union-attr]
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
                found = self.only(expr.func.id, {"class"})
                return bool(found) and all(
                    any(self.qual(b) in ("tenacity.retry_base", "tenacity.retry.retry_base") for b in n.bases)  # type: ignore[attr-defined]
                    for _, n in found  # type: ignore[union-attr]
                )
            return False
        if isinstance(expr, (ast.Name, ast.Attribute)):
            if self.qual(expr) in ("tenacity.retry_always", "tenacity.retry_never"):
                return True
            if isinstance(expr, ast.Name):
                imported = self.imported(expr.id)
                if imported:
                    return imported[1] in imported[0].strategies
                found = self.only(expr.id, {"assign"})
                return bool(found) and all(self.is_strategy(n, depth + 1) for _, n in found)  # type: ignore[union-attr]
        return False

    def is_retry_function(self, expr: ast.AST) -> bool:
        """A function decorated with tenacity's `retry` (by name, imported, or a decorated method)."""
        if isinstance(expr, ast.Name):
            imported = self.imported(expr.id)
            if imported:
                return imported[1] in imported[0].retry_funcs
            found = self.only(expr.id, {"def"})
            return bool(found) and all(self.retry_decorator(n) is not None for _, n in found)  # type: ignore[arg-type,union-attr]
        if isinstance(expr, ast.Attribute):
            module = None
            if isinstance(expr.value, ast.Name) and expr.value.id in self.from_imports:
                module = ".".join(p for p in self.from_imports[expr.value.id] if p)
            elif (q := self.imports.qualname(expr.value)) and not q.startswith("tenacity"):
                module = q
            summary = self.index.lookup(module) if module and self.index is not None else None
            if summary is not None:
                return expr.attr in summary.retry_funcs
            if isinstance(expr.value, ast.Name) and (classes := self.only(expr.value.id, {"class"})):
                methods = [
                    item
                    for _, cls in classes
                    for item in cls.body  # type: ignore[attr-defined]
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == expr.attr
                ]
                if methods:  # `Class.method` of a class of this module: its own decorators tell
                    return all(self.retry_decorator(m) is not None for m in methods)
            if expr.attr in self.retry_methods and expr.attr not in self.method_names - self.retry_methods:
                return self.index is None or not self.index.has_plain_method(expr.attr)
            if self.index is not None and self.index.has_retry_method(expr.attr):
                return not self.index.has_plain_method(expr.attr)
        return False

    def imported_from_elsewhere(self, expr: ast.AST) -> bool:
        """Whether `expr` is rooted at a name imported from a module other than tenacity."""
        while isinstance(expr, ast.Attribute):
            expr = expr.value
        if not isinstance(expr, ast.Name) or self.only(expr.id, {"import"}) is None:
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
                for cls in self.nodes(ast.ClassDef)
                for item in cls.body  # type: ignore[attr-defined]
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == expr.attr
            ]
            return bool(found) and all(isinstance(n, ast.AsyncFunctionDef) for n in found)
        if not isinstance(expr, ast.Name):
            return False
        found = self.only(expr.id, {"def"})
        return bool(found) and all(isinstance(n, ast.AsyncFunctionDef) for _, n in found)  # type: ignore[union-attr]

    def summary(self) -> ModuleSummary:
        out = ModuleSummary(
            retry_methods=set(self.retry_methods),
            method_names=set(self.method_names),
            uses_tenacity=self.uses_tenacity,
        )
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


# ---- compositions `a | b`, judged once for retry-compose and retry-compose-unresolved ----------------


def compose_chain(node: ast.BinOp) -> list[ast.expr]:
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
    operands = compose_chain(node)
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


def compositions(facts: Facts, verdict: str) -> Iterator[ast.BinOp]:
    """Every whole `a | b` / `a & b` chain of the module with this verdict ('auto' or 'human'), judged once per
    facts for both compose rules and their fix."""
    judged = facts.memo.get("compositions")
    if judged is None:
        judged = facts.memo["compositions"] = list(_judge_compositions(facts)) if may_compose(facts) else []
    return (node for node, v in judged if v == verdict)  # type: ignore[attr-defined]


def may_compose(facts: Facts) -> bool:
    """Whether a composition of the module can have a verdict: one needs an operator, and a strategy or a retry
    call's `retry=`; a strategy is named through tenacity, or imported from a service module by a name the
    module must write (`ServiceIndex.strategy_names`)."""
    if not (facts.mentions("|") or facts.mentions("&")):
        return False
    if facts.may_retry:
        return True
    return facts.index is not None and any(facts.mentions(n) for n in facts.index.strategy_names())


def _judge_compositions(facts: Facts) -> Iterator[tuple[ast.BinOp, str | None]]:
    retry_values = {
        id(kw.value) for call in facts.retry_calls() if (kw := keyword(call, "retry")) is not None
    }
    binops = [n for n in facts.nodes(ast.BinOp) if isinstance(n.op, (ast.BitOr, ast.BitAnd))]  # type: ignore[attr-defined]
    inner = {id(n.left) for n in binops if isinstance(n.left, ast.BinOp) and type(n.left.op) is type(n.op)}  # type: ignore[attr-defined]
    for node in binops:
        assert isinstance(node, ast.BinOp)
        if id(node) in inner:
            continue  # judged with its whole chain
        yield node, compose_verdict(facts, node, id(node) in retry_values)
