"""Small `ast` helpers shared by recipe detectors: what a local name refers to, and call lookup."""

from __future__ import annotations

import ast
import functools
import weakref
from collections import deque
from collections.abc import Iterable, Iterator

from fleetshift import astparse


def parse_tree(text: str) -> ast.Module:
    """The `ast` tree of a module's text, parsed once per process and shared by every recipe and stage that reads
    that text (scan, check, plan, rewrite): callers read it and never change it. A text that does not parse raises
    each time (nothing is kept). A sparse view (one recipe's, see `recipes.sparse`) is kept apart, so the views do
    not push the whole modules every recipe shares out of the cache."""
    return (_parse_view if "__fleetshift_cold_" in text else _parse)(text)


@functools.lru_cache(maxsize=256)
def _parse(text: str) -> ast.Module:
    return astparse.parse(text)


@functools.lru_cache(maxsize=16)
def _parse_view(text: str) -> ast.Module:
    return astparse.parse(text)


_BODIES = (ast.stmt, ast.excepthandler, ast.match_case)
_WALKS: dict[int, tuple[ast.AST, list[ast.AST]]] = {}  # the last walks, by tree (kept with it: its id stays its own)


# fields that never hold a node (what `walk` passes over), and the list fields that may hold something else (None,
# names): the other lists hold nodes only
_SCALARS = frozenset({"id", "attr", "arg", "name", "asname", "module", "level", "kind", "type_comment", "conversion",
                      "is_async", "rest", "tag", "lineno", "simple"})
_MIXED = frozenset({(ast.Dict, "keys"), (ast.arguments, "kw_defaults"), (ast.Global, "names"), (ast.Nonlocal, "names"),
                    (ast.MatchClass, "kwd_attrs")})
_FIELDS: dict[type, tuple[tuple[str, bool], ...]] = {}


def _fields(kind: type) -> tuple[tuple[str, bool], ...]:
    """The fields of a node class that may hold a node, each with whether it is a list that may hold something
    else."""
    out = _FIELDS[kind] = tuple(
        (f, (kind, f) in _MIXED) for f in kind._fields
        if f not in _SCALARS and not (f == "value" and kind in (ast.Constant, ast.MatchSingleton)))
    return out


def by_class(nodes: Iterable[ast.AST]) -> dict[type, tuple[ast.AST, ...]]:
    """The nodes of each class, in the order given (a recipe reads a module's nodes of a few classes many times:
    grouped once, read without testing every node again)."""
    grouped: dict[type, list[ast.AST]] = {}
    for node in nodes:
        grouped.setdefault(node.__class__, []).append(node)
    return {kind: tuple(found) for kind, found in grouped.items()}


def walk(tree: ast.AST) -> list[ast.AST]:
    """Every node of the tree in `ast.walk`'s order, listed once per tree (for the last 256 trees, as
    `parse_tree` keeps them) and shared by the recipes that read a tree node by node; callers never change it.
    Each node's fields that may hold a node are known by its class (`_fields`)."""
    known = _WALKS.get(id(tree))
    if known is not None and known[0] is tree:
        return known[1]
    out = [tree]
    append, extend = out.append, out.extend
    table = _FIELDS
    for node in out:  # the list grows while it is read: breadth first, as `ast.walk`
        fields = table.get(node.__class__)
        if fields is None:
            fields = _fields(node.__class__)
        for field, mixed in fields:
            value = getattr(node, field, None)
            if value.__class__ is list:
                if mixed:
                    extend(v for v in value if isinstance(v, ast.AST))
                else:
                    extend(value)
            elif isinstance(value, ast.AST):
                append(value)
    _WALKS[id(tree)] = (tree, out)
    if len(_WALKS) > 256:
        _WALKS.pop(next(iter(_WALKS), None), None)  # (`forget` may have emptied it since, in another thread)
    return out


def forget() -> None:
    """Drop the trees and walks kept so far (the texts of a service whose rewrite is done: no other service reads
    them, and kept they are what the cyclic collector walks at each collection until they are pushed out)."""
    _parse.cache_clear()
    _parse_view.cache_clear()
    _WALKS.clear()


def statements(tree: ast.AST) -> Iterator[ast.AST]:
    """The tree's root and every statement under it (with the except handlers and match cases that hold
    statements), in `ast.walk`'s order, without visiting an expression: no statement lies in one."""
    todo = deque([tree])
    while todo:
        node = todo.popleft()
        for field in node._fields:
            value = getattr(node, field, None)
            if value.__class__ is list:
                todo.extend(v for v in value if isinstance(v, _BODIES))
        yield node


# what each tree imports, read once per tree (its Imports are copies: a caller may add names to its own)
_IMPORTS: weakref.WeakKeyDictionary[ast.AST, tuple[dict[str, str], list[tuple[str, int]]]] = weakref.WeakKeyDictionary()


class Imports:
    """Maps local names bound by import statements to the dotted names they stand for.

    `import tenacity as t` binds t -> tenacity; `from tenacity import retry as r` binds
    r -> tenacity.retry. `qualname(node)` resolves a Name/Attribute chain through that map.
    """

    def __init__(self, tree: ast.AST) -> None:
        known = _IMPORTS.get(tree)
        if known is None:
            known = _IMPORTS[tree] = self._read(tree)
        self.names: dict[str, str] = dict(known[0])
        self.modules: list[tuple[str, int]] = list(known[1])  # every imported module with its line

    @staticmethod
    def _read(tree: ast.AST) -> tuple[dict[str, str], list[tuple[str, int]]]:
        names: dict[str, str] = {}
        modules: list[tuple[str, int]] = []
        for node in statements(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    modules.append((alias.name, node.lineno))
                    if alias.asname:
                        names[alias.asname] = alias.name
                    else:
                        top = alias.name.split(".")[0]
                        names.setdefault(top, top)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules.append((node.module, node.lineno))
                for alias in node.names:
                    names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        return names, modules

    def qualname(self, node: ast.AST) -> str | None:
        """The dotted name `node` refers to, or None when it is not an imported name."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name) or node.id not in self.names:
            return None
        return ".".join([self.names[node.id], *reversed(parts)])

    def imports_module(self, prefix: str) -> bool:
        return any(m == prefix or m.startswith(prefix + ".") for m, _ in self.modules)


def dotted(node: ast.AST) -> str | None:
    """`a.b.c` for a Name/Attribute chain, without resolving imports."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(parts)])


def parents(tree: ast.AST) -> dict[int, ast.AST]:
    """Each node's parent, by the child's id."""
    out: dict[int, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            out[id(child)] = node
    return out


def calls(tree: ast.AST) -> Iterator[ast.Call]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield node


def keyword(call: ast.Call, name: str) -> ast.keyword | None:
    for kw in call.keywords:
        if kw.arg == name:
            return kw
    return None


def decorator_calls(fn: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> Iterator[tuple[ast.expr, ast.Call | None]]:
    """Each decorator as (callee expression, the Call or None when used bare)."""
    for dec in fn.decorator_list:
        if isinstance(dec, ast.Call):
            yield dec.func, dec
        else:
            yield dec, None
