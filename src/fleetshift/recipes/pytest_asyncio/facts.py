"""What every rule's `check` reads about one Python file (standard `ast` only): its definitions and calls.

`ModuleFacts` is built once per file by `module_facts` and shared by every rule's `check`, which yields
`Site`s: a node (or line), an optional detail, and whether the site only informs whatever the rule's action.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from fleetshift.recipes import _ast as _ast_fields
from fleetshift.recipes import _pytest_config as pc
from fleetshift.recipes._ast import Imports, decorator_calls
from fleetshift.recipes.base import FileKind, SourceFile
from fleetshift.recipes.pytest_asyncio.gates import may_name, near, word_lines
from fleetshift.recipes.pytest_asyncio.rules import MARK
from fleetshift.recipes.pytest_asyncio.survey import Override, defs, fixture_name, params, str_kw


@dataclass(frozen=True)
class Site:
    """A place a rule's `check` reports."""

    node: ast.AST | int
    detail: str = ""
    info: bool = False  # only informs, whatever the rule's action


@dataclass(frozen=True)
class Def:
    """A module- or class-level function: whether it is a fixture (and the name it is requested by) or a test."""

    cls: str  # enclosing class name, "" at module level
    owner: ast.ClassDef | None
    fn: ast.FunctionDef | ast.AsyncFunctionDef
    deco: ast.Call | bool | None  # the fixture decorator's call, True when bare, None when not a fixture
    fixture: str | None  # the name a fixture is requested by (None when not a fixture or dynamic)
    is_test: bool

    @property
    def params(self) -> list[str]:
        return params(self.fn)


@dataclass(frozen=True)
class ModuleFacts:
    """One Python file as the pytest-asyncio rules see it."""

    path: str
    kind: FileKind
    text: str
    tree: ast.Module
    imports: Imports
    test_module: bool
    module_marked: bool  # a module-level pytestmark holds the asyncio marker
    defs: tuple[Def, ...]
    # the service's event_loop overrides as the run judges them, by (path, class, function); None when the file
    # is read alone
    overrides: Mapping[tuple[str, str, str], Override] | None = None

    @functools.cached_property
    def calls(self) -> tuple[tuple[ast.Call, bool], ...]:
        """Every call, with whether its innermost function is async (found when a check first asks)."""
        return tuple(calls_with_context(self.tree))

    def names(self, *words: str) -> bool:
        """Whether the text may hold one of the identifiers `words` (a text with non-ASCII characters always may:
        Python normalizes identifiers)."""
        return may_name(self.text, *words)

    def calls_near(self, *words: str) -> list[ast.Call]:
        """The calls that may hold one of the identifiers `words`, in the order of `calls` (see `gates.near`): a
        call whose source holds one of them is among them."""
        lines = None if "calls" in self.__dict__ else word_lines(self.text, words)
        if lines is None:  # every call is at hand, or the text cannot tell
            return [call for call, _ in self.calls]
        return near(self.tree, lines, (ast.Call,), depth_first=True)  # type: ignore[return-value]

    def override(self, d: Def) -> Override | None:
        """What the run makes of an event_loop override (None when the file is read without its service)."""
        return None if self.overrides is None else self.overrides.get((self.path, d.cls, d.fn.name))


def pytestmark_values(body: Iterable[ast.stmt]) -> Iterator[ast.expr]:
    for node in body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets
        ):
            yield node.value


def ast_marked(exprs: Iterable[ast.expr], imports: Imports, names: Sequence[str] = (MARK,)) -> bool:
    """Whether any of the marker expressions (or list/tuple of them) is one of `names`."""
    for e in exprs:
        items = e.elts if isinstance(e, (ast.List, ast.Tuple)) else [e]
        for it in items:
            f = it.func if isinstance(it, ast.Call) else it
            if imports.qualname(f) in names:
                return True
    return False


def calls_with_context(tree: ast.AST) -> Iterator[tuple[ast.Call, bool]]:
    """Every Call with whether its innermost enclosing function is async, in source (depth-first) order: each
    node's children as `ast.iter_child_nodes` gives them, read through the fields a node of its class may hold one
    in (the table `_ast.walk` reads), without a generator per node."""
    table = _ast_fields._FIELDS
    nodes: list[ast.AST] = [tree]
    contexts: list[bool] = [False]  # for each node to visit: whether its innermost function is async
    while nodes:
        node, is_async = nodes.pop(), contexts.pop()
        kind = node.__class__
        if node is not tree:
            if kind is ast.Call:
                yield node, is_async  # type: ignore[misc]
            elif kind is ast.AsyncFunctionDef:
                is_async = True
            elif kind is ast.FunctionDef or kind is ast.Lambda:
                is_async = False
        fields = table.get(kind)
        if fields is None:
            fields = _ast_fields._fields(kind)
        n = len(nodes)
        for field, mixed in fields:
            value = getattr(node, field, None)
            if value.__class__ is list:
                if mixed:
                    nodes.extend(v for v in value if isinstance(v, ast.AST))
                else:
                    nodes.extend(value)
            elif isinstance(value, ast.AST):
                nodes.append(value)
        if len(nodes) > n:
            nodes[n:] = reversed(nodes[n:])  # the children last first: the first is popped first
            contexts.extend([is_async] * (len(nodes) - n))


def module_facts(src: SourceFile, overrides: Mapping[tuple[str, str, str], Override] | None = None) -> ModuleFacts:
    tree, imports = src.tree, Imports(src.tree)
    test_module = pc.is_test_module(src.path) and src.kind == "test"
    owners = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    found = []
    for cls, fn in defs(tree):
        deco = pc.ast_fixture_call(fn, imports)
        is_test = test_module and fn.name.startswith("test") and deco is None and (not cls or cls.startswith("Test"))
        name = fixture_name(fn, deco) if deco is not None else None
        found.append(Def(cls, owners.get(cls) if cls else None, fn, deco, name, is_test))
    return ModuleFacts(
        src.path,
        src.kind,
        src.text,
        tree,
        imports,
        test_module,
        ast_marked(pytestmark_values(tree.body), imports),
        tuple(found),
        overrides,
    )


@dataclass(frozen=True)
class AsyncFixture:
    """An async or `pytest_asyncio` fixture and its scope arguments as written."""

    d: Def
    is_async: bool
    pa: bool  # decorated with pytest_asyncio.fixture
    has_scope: bool
    scope: str | None  # None when not a literal
    has_loop: bool


def async_fixtures(facts: ModuleFacts) -> Iterator[AsyncFixture]:
    """Every async or `pytest_asyncio` fixture (event_loop overrides excepted)."""
    for d in facts.defs:
        if d.deco is None or d.fixture == "event_loop":
            continue
        is_async = isinstance(d.fn, ast.AsyncFunctionDef)
        pa = any(facts.imports.qualname(f) == "pytest_asyncio.fixture" for f, _ in decorator_calls(d.fn))
        if is_async or pa:
            has_scope, scope = str_kw(d.deco, "scope")
            has_loop, _ = str_kw(d.deco, "loop_scope")
            yield AsyncFixture(d, is_async, pa, has_scope, scope, has_loop)


_NESTING = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_LOOP_HELPERS = frozenset({"get_event_loop", "new_event_loop", "set_event_loop", "get_event_loop_policy"})
_DRIVERS = frozenset({"run_forever", "run_until_complete", "stop", "close"})


def sync_loop_use(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """How a sync function uses its `event_loop` parameter (the `ast` twin of event_loop.sync_use): "none", "run",
    "other" or "drives"."""
    total = nested = run_calls = run_attrs = loop_calls = 0
    attrs: set[str] = set()
    nested_attrs: set[str] = set()

    def walk(node: ast.AST, depth: int) -> None:
        nonlocal total, nested, run_calls, run_attrs, loop_calls
        for child in ast.iter_child_nodes(node):
            d = depth + isinstance(child, _NESTING)
            if isinstance(child, ast.Name) and child.id == "event_loop":
                total += 1
                nested += bool(depth)
            elif isinstance(child, ast.Attribute) and isinstance(child.value, ast.Name):
                if child.value.id == "event_loop":
                    (nested_attrs if depth else attrs).add(child.attr)
                    run_attrs += not depth and child.attr == "run_until_complete"
                elif child.value.id == "asyncio" and child.attr in _LOOP_HELPERS:
                    loop_calls += 1
            if (
                not depth
                and isinstance(child, ast.Call)
                and isinstance(child.func, ast.Attribute)
                and isinstance(child.func.value, ast.Name)
                and child.func.value.id == "event_loop"
                and child.func.attr == "run_until_complete"
                and len(child.args) == 1
                and not child.keywords
                and not isinstance(child.args[0], ast.Starred)
            ):
                run_calls += 1
            walk(child, d)

    for stmt in fn.body:
        walk(ast.Module([stmt], []), 0)
    if total == 0:
        return "none"
    if loop_calls or (attrs - {"run_until_complete"}) & _DRIVERS or nested_attrs & _DRIVERS or run_attrs != run_calls:
        return "drives"
    if total == run_calls and not nested:
        return "run"
    return "other"
