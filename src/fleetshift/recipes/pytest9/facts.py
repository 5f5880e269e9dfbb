"""What every pytest rule reads of one Python module: a frozen record built once per file.

Detection gives each rule's `check` the record of the file as it is; rewriting builds it once more with the
slugs of the rules the run applies, and hands it to each active rule's `Fix`, which resolves the LibCST nodes
it edits through the same imports (`_cst.Imports`). Nothing here imports LibCST.
"""

from __future__ import annotations

import ast
from bisect import bisect_left
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

from fleetshift.model import Action
from fleetshift.recipes import _pytest_config as pc
from fleetshift.recipes._ast import Imports, by_class, keyword, statements, walk
from fleetshift.recipes.pytest_asyncio.gates import may_hold, may_name, near, word_lines

N = TypeVar("N", bound=ast.AST)
_BODIES = (ast.stmt, ast.excepthandler, ast.match_case)
PARAMETRIZE = "pytest.mark.parametrize"

# what a rule's `check` yields: the node (or line) of a site and its detail ("" for the rule's summary), and
# optionally the site's action when it is not the rule's (a site the rule's fix only reports is HUMAN)
Site = tuple[ast.AST | int, str] | tuple[ast.AST | int, str, Action]


@dataclass(frozen=True)
class Facts:
    """One Python module as the pytest rules see it. What a rule reads of the tree is found when a rule first asks
    for it; a rule first looks in the text (`names`) for the words its sites must hold."""

    path: str
    tree: ast.Module
    imports: Imports  # names bound by the module's imports, on `ast`
    test_module: bool  # a test_*.py / *_test.py file
    active: frozenset[str] = frozenset()  # slugs of the rules the run applies (empty for detection)
    files: Mapping[str, str] = field(default_factory=dict)  # the service's files by path (when rewriting)
    text: str | None = None  # the text the tree was parsed from (None: unknown, every word may be there)
    memo: dict[str, Any] = field(default_factory=dict, init=False, compare=False, repr=False)  # rules share, by name

    @cached_property
    def nodes(self) -> Mapping[type, tuple[ast.AST, ...]]:
        """Every node by its type, in walk order per type (one walk of the whole tree)."""
        return by_class(walk(self.tree))

    @cached_property
    def statements(self) -> Mapping[type, tuple[ast.AST, ...]]:
        """Every statement (and except handler, match case) by its type, in walk order per type: the order the
        whole tree's walk gives them, without visiting an expression."""
        return by_class(statements(self.tree))

    def of(self, *kinds: type[N]) -> Iterator[N]:
        """The module's nodes of these types, in walk order per type."""
        for kind in kinds:
            by_type = self.statements if issubclass(kind, _BODIES) and "nodes" not in self.__dict__ else self.nodes
            yield from by_type.get(kind, ())  # type: ignore[misc]

    def names(self, *words: str) -> bool:
        """Whether the text may hold one of the identifiers `words` (see `gates.may_name`)."""
        return may_name(self.text, *words)

    @cached_property
    def _words(self) -> dict[str, list[str]]:
        """The words a `parametrize` call and a fixture decorator stand on: their names, and the names imports
        bind to them (none when the text holds neither)."""
        out: dict[str, list[str]] = {}
        if self.names("parametrize"):
            out["parametrize"] = ["parametrize", *(n for n, q in self.imports.names.items() if q == PARAMETRIZE)]
        if self.names("fixture"):
            out["fixture"] = ["fixture", *(n for n, q in self.imports.names.items() if q in pc.FIXTURE_NAMES)]
        return out

    @cached_property
    def _near(self) -> list[ast.AST] | None:
        """The calls and functions that may hold a word of `_words`, in walk order (one walk of the parts of the
        tree that may hold one: see `gates.near`); None when the text cannot tell."""
        words = [w for found in self._words.values() for w in found]
        lines = word_lines(self.text, words) if words else []
        if lines is None or "nodes" in self.__dict__:  # the text cannot tell, or the whole walk is at hand
            return None
        return near(self.tree, lines, (ast.Call, ast.FunctionDef, ast.AsyncFunctionDef)) if lines else []

    @cached_property
    def fixtures(self) -> tuple[ast.FunctionDef | ast.AsyncFunctionDef, ...]:
        """Every function decorated as a fixture (see `pc.ast_fixture_call`), in walk order per type (functions,
        then async functions)."""
        if "fixture" not in self._words:  # a fixture decorator is an attribute, or a name an import binds
            return ()
        found = self._near
        fns = [n for kind in (ast.FunctionDef, ast.AsyncFunctionDef)
               for n in (self.of(kind) if found is None else (f for f in found if type(f) is kind))]
        return tuple(f for f in fns if pc.ast_fixture_call(f, self.imports) is not None)  # type: ignore[arg-type]

    @cached_property
    def parametrize_calls(self) -> tuple[ast.Call, ...]:
        """Every `parametrize` call (see `is_parametrize`), in walk order."""
        if "parametrize" not in self._words:  # its attribute, or a name an import binds
            return ()
        found = self._near
        calls = self.of(ast.Call) if found is None else (c for c in found if type(c) is ast.Call)
        return tuple(c for c in calls if is_parametrize(c, self.imports))  # type: ignore[arg-type]

    @cached_property
    def yield_lines(self) -> tuple[int, ...]:
        """The lines that may hold a `yield` or `yield from` of the module, sorted (see `yields`): the lines the
        word stands on in the text, else those of every yield in the tree."""
        if not may_hold(self.text, "yield"):
            return ()
        lines = word_lines(self.text, ("yield",), identifiers=False)  # a keyword is never spelled otherwise
        if lines is not None:
            return tuple(lines)
        return tuple(sorted(n.lineno for n in self.of(ast.Yield, ast.YieldFrom)))


def facts_of(
    path: str,
    tree: ast.Module,
    active: frozenset[str] = frozenset(),
    files: Mapping[str, str] | None = None,
    text: str | None = None,
) -> Facts:
    """The facts of one parsed module (`text`: the text it was parsed from, which the rules' text gates read)."""
    return Facts(path, tree, Imports(tree), pc.is_test_module(path), active, files or {}, text)


def const(call: ast.Call, name: str) -> object:
    """The constant given as keyword `name` of `call`; None when absent or not a constant."""
    kw = keyword(call, name)
    return kw.value.value if kw is not None and isinstance(kw.value, ast.Constant) else None


def is_parametrize(node: ast.Call, imports: Imports) -> bool:
    """`pytest.mark.parametrize(...)` (however imported) or `metafunc.parametrize(...)`."""
    if isinstance(node.func, ast.Attribute) and node.func.attr != "parametrize":  # its qualname ends with its attr
        return False
    return imports.qualname(node.func) == PARAMETRIZE or (
        isinstance(node.func, ast.Attribute)
        and node.func.attr == "parametrize"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "metafunc"
    )


def outer_functions(tree: ast.Module) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    """The functions not nested in another function: module-level ones and methods (in any block)."""
    todo: list[ast.AST] = [tree]
    while todo:
        node = todo.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield child
            elif isinstance(child, (ast.stmt, ast.excepthandler, ast.match_case)):
                todo.append(child)


def yields(fn: ast.FunctionDef | ast.AsyncFunctionDef, lines: Sequence[int] | None = None) -> bool:
    """Whether `fn` itself (not a nested function, class or lambda) yields. `lines`, when given, are the sorted
    lines of every yield in the module (`Facts.yield_lines`): with none between the def and its end, it does not
    (a yield of its body lies there), and its body is not walked."""
    if lines is not None:
        i = bisect_left(lines, fn.lineno)
        if i == len(lines) or lines[i] > (fn.end_lineno or fn.lineno):
            return False
    todo: list[ast.AST] = list(fn.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            return True
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            todo.extend(ast.iter_child_nodes(node))
    return False


class Metadata:
    """A Fix's LibCST metadata providers, named so the rule module need not import LibCST:
    `METADATA_DEPENDENCIES = Metadata("PositionProvider")` (resolved when `fixes.apply` asks)."""

    def __init__(self, *names: str) -> None:
        self.names = names

    def __get__(self, obj: object, owner: type | None = None) -> tuple[Any, ...]:
        import libcst.metadata

        return tuple(getattr(libcst.metadata, n) for n in self.names)


class RuleFix:
    """What a pytest rule's `Fix` starts from: the module's facts, its LibCST imports (`self.imports`), and the
    findings it reports as (line, rule slug, message). No LibCST here: subclasses import it in their methods."""

    def __init__(self, facts: Facts) -> None:
        from fleetshift.recipes._cst import Imports as CodeImports

        self.facts = facts
        self.imports: CodeImports = CodeImports(facts.imports.names)
        self.findings: list[tuple[int, str, str]] = []

    def asks_no_metadata(self) -> None:
        """This fix asks no metadata of this module: `fixes.apply` resolves its declared providers for the fixes
        that ask (a provider is a walk of the whole module), not for it."""
        self.METADATA_DEPENDENCIES = ()


class OuterFunctionFix(RuleFix):
    """A fix that rewrites functions not nested in another one: `leave_outer_function` gets each of them on
    the way up as `rewrite_outer` (methods count as outer), with `self.depth` > 0 while inside one."""

    def __init__(self, facts: Facts) -> None:
        super().__init__(facts)
        self.depth = 0

    def visit_FunctionDef(self, node: object) -> None:
        self.depth += 1
        if self.depth == 1:
            self.enter_outer(node)

    def leave_FunctionDef(self, original: Any, updated: Any) -> Any:
        self.depth -= 1
        return updated if self.depth else self.rewrite_outer(original, updated)

    def enter_outer(self, node: Any) -> None:
        """Called on the way down into each outer function."""

    def rewrite_outer(self, original: Any, updated: Any) -> Any:
        """Each outer function on the way up: what it becomes."""
        return updated

