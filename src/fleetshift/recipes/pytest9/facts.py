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
from fleetshift.recipes._ast import Imports, keyword, walk

N = TypeVar("N", bound=ast.AST)

# what a rule's `check` yields: the node (or line) of a site and its detail ("" for the rule's summary), and
# optionally the site's action when it is not the rule's (a site the rule's fix only reports is HUMAN)
Site = tuple[ast.AST | int, str] | tuple[ast.AST | int, str, Action]


@dataclass(frozen=True)
class Facts:
    """One Python module as the pytest rules see it."""

    path: str
    tree: ast.Module
    imports: Imports  # names bound by the module's imports, on `ast`
    test_module: bool  # a test_*.py / *_test.py file
    nodes: Mapping[type, tuple[ast.AST, ...]] = field(default_factory=dict)  # every node by its type
    active: frozenset[str] = frozenset()  # slugs of the rules the run applies (empty for detection)
    files: Mapping[str, str] = field(default_factory=dict)  # the service's files by path (when rewriting)

    def of(self, *kinds: type[N]) -> Iterator[N]:
        """The module's nodes of these types, in walk order per type."""
        for kind in kinds:
            yield from self.nodes.get(kind, ())  # type: ignore[misc]

    @cached_property
    def yield_lines(self) -> tuple[int, ...]:
        """The lines of every `yield` and `yield from` in the module, sorted (see `yields`)."""
        return tuple(sorted(n.lineno for n in self.of(ast.Yield, ast.YieldFrom)))


def facts_of(
    path: str,
    tree: ast.Module,
    active: frozenset[str] = frozenset(),
    files: Mapping[str, str] | None = None,
) -> Facts:
    """The facts of one parsed module: its imports and its nodes by type, from one walk."""
    nodes: dict[type, list[ast.AST]] = {}
    for node in walk(tree):
        nodes.setdefault(type(node), []).append(node)
    return Facts(
        path,
        tree,
        Imports(tree),
        pc.is_test_module(path),
        {k: tuple(v) for k, v in nodes.items()},
        active,
        files or {},
    )


def const(call: ast.Call, name: str) -> object:
    """The constant given as keyword `name` of `call`; None when absent or not a constant."""
    kw = keyword(call, name)
    return kw.value.value if kw is not None and isinstance(kw.value, ast.Constant) else None


def is_parametrize(node: ast.Call, imports: Imports) -> bool:
    """`pytest.mark.parametrize(...)` (however imported) or `metafunc.parametrize(...)`."""
    if isinstance(node.func, ast.Attribute) and node.func.attr != "parametrize":  # its qualname ends with its attr
        return False
    return imports.qualname(node.func) == "pytest.mark.parametrize" or (
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

