"""One LibCST walk for many rules: the fixes of a recipe's rule modules applied together.

A rule module's fix is a plain class (no LibCST base class, so importing the rule module does not import
LibCST; each method imports `libcst` itself) with `visit_<Node>` and `leave_<Node>` methods, the names
LibCST's own transformers use:

    class Fix:
        '''rename initial= to multiplier= in wait_exponential_jitter(...)'''

        def __init__(self, facts: Facts) -> None:
            self.facts = facts

        def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
            import libcst as cst
            ...

`apply(module, fixes)` walks the module once: every `visit_<Node>` of every fix sees the node on the way
down (its return value is ignored: children are always visited, since other fixes may need them), and on the
way up each fix's `leave_<Node>` gets the node as the fixes before it left it. A fix returning a removal or
a `FlattenSentinel` ends the chain for that node. A fix that needs LibCST metadata lists its providers in
`METADATA_DEPENDENCIES` and calls `self.get_metadata(provider, node)`, which `apply` gives it.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import itertools
import threading
from collections.abc import Callable, Mapping, Sequence, Set
from typing import Any

import libcst as cst


def parse(text: str) -> cst.Module:
    """The LibCST module of a text, parsed once per process for the whole chain of recipes (and a recipe's own
    later passes over a text it left as it was). LibCST nodes are immutable, so the module is shared as it is. A
    sparse view (one recipe's, see `recipes.sparse`) is kept apart, so views do not push whole modules out."""
    from fleetshift.recipes.sparse import PREFIX

    module = (_parse_view if PREFIX in text else _parse)(text)
    _TEXTS[id(module)] = (module, text)
    if len(_TEXTS) > 80:
        _TEXTS.pop(next(iter(_TEXTS), None), None)
    return module


_TEXTS: dict[int, tuple[cst.Module, str]] = {}  # the last modules `parse` gave, by id: the text each was parsed from


def _text_of(module: cst.Module) -> str | None:
    known = _TEXTS.get(id(module))
    return known[1] if known is not None and known[0] is module else None


@functools.lru_cache(maxsize=64)
def _parse(text: str) -> cst.Module:
    return _parsed(text)


@functools.lru_cache(maxsize=8)
def _parse_view(text: str) -> cst.Module:
    return _parsed(text)


def _parsed(text: str) -> cst.Module:
    """`cst.parse_module(text)`, its nodes not validated one by one as they are built (see `_parse_unchecked`)."""
    _PARSING.on = True
    try:
        return cst.parse_module(text)
    finally:
        _PARSING.on = False


class _Parsing(threading.local):
    on = False  # while this thread's `_parsed` builds a module


_PARSING = _Parsing()


def forget() -> None:
    """Drop the modules kept so far (see `_ast.forget`)."""
    _parse.cache_clear()
    _parse_view.cache_clear()
    _TEXTS.clear()


def code(module: cst.Module, new: cst.Module) -> str:
    """`new.code` for `new`, a rewrite of `module` (a module `parse` gave): each top-level statement of `new` that is
    one of `module`'s, or equal to it field by field (`same`), is written as the lines of the text it was parsed from
    (`statement_lines`); only the others go through LibCST's code generation. With as many statements, each is
    `module`'s at the same place or not; with another number (an import added or removed), those of the longest run
    at the start and at the end equal to `module`'s. `new.code` itself when none is kept, or the two differ in
    header, footer or defaults."""
    text = _text_of(module)
    if (text is None or not module.has_trailing_newline or not new.has_trailing_newline
            or new.default_newline != module.default_newline or new.default_indent != module.default_indent
            or not same(new.header, module.header) or not same(new.footer, module.footer)):
        return new.code
    old_body, new_body = module.body, new.body
    n, m = len(old_body), len(new_body)
    kept: list[int | None]  # each new statement's index in `module`, None when it is generated
    if n == m:
        kept = [i if same(a, b) else None for i, (a, b) in enumerate(zip(old_body, new_body, strict=True))]
    else:
        head = 0
        while head < min(n, m) and same(old_body[head], new_body[head]):
            head += 1
        tail = 0
        while tail < min(n, m) - head and same(old_body[n - 1 - tail], new_body[m - 1 - tail]):
            tail += 1
        kept = [i if i < head else (n - m + i if i >= m - tail else None) for i in range(m)]
    if all(k is None for k in kept):
        return new.code
    spans = statement_lines(module, text)
    if spans is None:
        return new.code
    lines, starts = spans
    out = ["".join(lines[:starts[0]])]
    for stmt, at in zip(new_body, kept, strict=True):
        out.append(new.code_for_node(stmt) if at is None else "".join(lines[starts[at]:starts[at + 1]]))
    out.append("".join(lines[starts[-1]:]))
    return "".join(out)


def same(a: object, b: object) -> bool:
    """Whether two LibCST values (nodes, sequences of them, plain values) are equal field by field: what LibCST
    writes for them is the same. A node met in both is not looked into."""
    if a is b:
        return True
    if IS_NODE[a.__class__]:
        if a.__class__ is not b.__class__:
            return False
        return all(same(getattr(a, name), getattr(b, name)) for name in _fields(a.__class__))
    if a.__class__ in (tuple, list):
        return (b.__class__ in (tuple, list) and len(a) == len(b)  # type: ignore[arg-type]
                and all(same(x, y) for x, y in zip(a, b, strict=True)))  # type: ignore[call-overload]
    return a.__class__ is b.__class__ and a == b


def statement_lines(module: cst.Module, text: str) -> tuple[list[str], list[int]] | None:
    """The text's lines (with their breaks) and, for each top-level statement of `module` (parsed from `text`), the
    index of its first line (its leading blank and comment lines included), then the index of the footer's first
    line: each statement's code is those whole lines. Read off the `ast` of the text, whose statements start on the
    lines LibCST's statements start on after their leading lines (and their first decorator's); None when the text
    has what moves a line off the `ast`'s count (a backslash continuation, a form feed, a lone carriage return) or
    the statements do not pair up."""
    from fleetshift.recipes._ast import parse_tree
    from fleetshift.recipes.sparse import lines_of

    if "\\\n" in text or "\\\r" in text or "\f" in text or ("\r" in text and text.count("\r") != text.count("\r\n")):
        return None
    try:
        tree = parse_tree(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    lines = lines_of(text)
    starts: list[int] = []
    j = 0
    body = tree.body
    for stmt in module.body:
        if j >= len(body):
            return None
        node = body[j]
        lead = len(stmt.leading_lines)
        decorators = getattr(stmt, "decorators", ())
        if isinstance(stmt, cst.SimpleStatementLine):
            first = node.lineno
            j += len(stmt.body)
        else:
            decorated = getattr(node, "decorator_list", None)
            if decorators:
                if not decorated:
                    return None
                first = decorated[0].lineno
                lead += len(decorators[0].leading_lines)
            else:
                first = node.lineno
            j += 1
        starts.append(first - 1 - lead)
    end = len(lines) - len(module.footer)
    if j != len(body) or not starts or starts[0] != len(module.header) or end < starts[-1]:
        return None
    if any(a >= b for a, b in itertools.pairwise(starts)):
        return None
    starts.append(end)
    return lines, starts


class _Combined(cst.CSTTransformer):
    def __init__(self, fixes: Sequence[object]) -> None:
        super().__init__()
        self.fixes = list(fixes)
        self._visits: dict[str, list[Callable[[Any], object]]] = {}
        self._leaves: dict[str, list[Callable[[Any, Any], Any]]] = {}
        for fix in self.fixes:
            if getattr(fix, "METADATA_DEPENDENCIES", ()):
                fix.get_metadata = self.get_metadata  # type: ignore[attr-defined]
            for name in _hook_names(fix):
                if name.startswith("visit_"):
                    self._visits.setdefault(name[6:], []).append(getattr(fix, name))
                elif name.startswith("leave_"):
                    self._leaves.setdefault(name[6:], []).append(getattr(fix, name))
        self.enter: set[int] | None = None  # the nodes whose children the walk visits (None: every node)
        self.path: list[cst.CSTNode] = []  # the node the walk is at and the nodes holding it, outermost first

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.path.append(node)
        for visit in self._visits.get(type(node).__name__, ()):
            visit(node)
        return self.enter is None or id(node) in self.enter

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> Any:
        updated: Any = updated_node
        for leave in self._leaves.get(type(original_node).__name__, ()):
            updated = leave(original_node, updated)
            if not IS_NODE[updated.__class__]:
                break  # removed or flattened: later fixes have no single node to work on
        self.path.pop()
        return updated

    def release(self) -> None:
        """Let go of the fixes once the walk is over: a fix asking for metadata holds this walk's `get_metadata`,
        so each would hold the other, and everything the fixes hold (facts, trees) would wait for the collector."""
        self.fixes = []
        self._visits = {}
        self._leaves = {}
        self.enter = None

    # A fix sees nodes, never a node's fields: no per-field visit is looked up (LibCST's default formats a method
    # name and looks it up on the transformer for every field of every node, and finds none here).
    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        return None

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        return None


_HOOKS: dict[type, tuple[str, ...]] = {}  # fix class -> its `visit_`/`leave_` attributes, as `dir` lists them


def _hook_names(fix: object) -> tuple[str, ...]:
    """The `visit_`/`leave_` names `dir(fix)` lists: its class's, looked up once per class (`dir` sorts every
    attribute of the class and its bases, for every file a recipe rewrites), then the instance's own."""
    kind = type(fix)
    names = _HOOKS.get(kind)
    if names is None:
        names = _HOOKS[kind] = tuple(n for n in dir(kind) if n.startswith(("visit_", "leave_")))
    own = getattr(fix, "__dict__", None)
    if own and any(n.startswith(("visit_", "leave_")) and n not in names for n in own):
        return tuple(n for n in dir(fix) if n.startswith(("visit_", "leave_")))
    return names


_FIELDS: dict[type, tuple[str, ...]] = {}
_WIDE = 64  # a fix visiting or leaving more kinds of node than this (a LibCST visitor itself) sees every node


def _fields(kind: type) -> tuple[str, ...]:
    names = _FIELDS.get(kind)
    if names is None:
        names = _FIELDS[kind] = tuple(f.name for f in dataclasses.fields(kind))
    return names


class _Kinds(dict[type, bool]):
    """Whether a class is a LibCST node class, learnt once per class: `isinstance(value, cst.CSTNode)` goes through
    the abstract base class's check for every value a walk meets."""

    def __missing__(self, kind: type) -> bool:
        out = self[kind] = issubclass(kind, cst.CSTNode)
        return out


IS_NODE = _Kinds()


def _trivia() -> frozenset[type]:
    """LibCST's whitespace, comment, newline, operator and bracket nodes: each holds nothing but nodes of these
    classes (about two nodes in three of a module)."""
    from libcst._nodes import expression, op, whitespace

    out: set[type] = set()
    for module in (whitespace, op):
        for name in dir(module):
            kind = getattr(module, name)
            if (isinstance(kind, type) and issubclass(kind, cst.CSTNode) and kind.__module__ == module.__name__
                    and not inspect.isabstract(kind)):
                out.add(kind)
    for name in ("LeftParen", "RightParen", "LeftSquareBracket", "RightSquareBracket", "LeftCurlyBrace",
                 "RightCurlyBrace"):
        out.add(getattr(expression, name))
    return frozenset(out)


TRIVIA = _trivia()
_TRIVIA_NAMES = frozenset(kind.__name__ for kind in TRIVIA)


def _entered(module: cst.CSTNode, kinds: Set[str]) -> set[int]:
    """id() of every node of `module` holding a node of one of `kinds` (by class name) below it: the nodes whose
    children a walk calling only those kinds' visits and leaves must visit. Read through the nodes' fields, which
    hold every child LibCST visits (nothing is built); a `TRIVIA` node, which holds only trivia, is not looked into
    when no kind is trivia."""
    out: set[int] = set()
    is_node = IS_NODE
    skip = TRIVIA if kinds.isdisjoint(_TRIVIA_NAMES) else frozenset()

    def holds(node: cst.CSTNode) -> bool:
        found = False
        for name in _fields(node.__class__):
            value = getattr(node, name)
            kind = value.__class__
            if kind in skip:
                continue
            if is_node[kind]:
                if holds(value) or kind.__name__ in kinds:
                    found = True
            elif kind is tuple or kind is list:
                for item in value:
                    kind = item.__class__
                    if kind not in skip and is_node[kind] and (holds(item) or kind.__name__ in kinds):
                        found = True
        if found:
            out.add(id(node))
        return found

    holds(module)
    # it refers to itself: without the cycle, nothing waits for the collector
    holds = None  # type: ignore[assignment]
    return out


def apply(module: cst.Module, fixes: Sequence[object]) -> cst.Module:
    """`module` with every fix applied in one walk (fixes earlier in `fixes` act first on each node).

    The walk enters only the nodes holding a node some fix visits or leaves: a subtree with none is left as it is
    (each fix's methods are called on the same nodes in the same order, and LibCST does not rebuild the subtree
    node by node to return it unchanged)."""
    fixes = [f for f in fixes if f is not None]
    if not fixes:
        return module
    providers = tuple({p for f in fixes for p in getattr(f, "METADATA_DEPENDENCIES", ())})
    combined = (_Combined if not providers else
                # LibCST reads a transformer's metadata needs from its class: one class per set of providers
                _with_metadata(frozenset(providers)))(fixes)
    try:
        return _apply(module, combined, providers)
    finally:
        combined.release()


def _apply(module: cst.Module, combined: _Combined, providers: tuple[object, ...]) -> cst.Module:
    kinds = combined._visits.keys() | combined._leaves.keys()
    if len(kinds) <= _WIDE:
        combined.enter = _entered(module, kinds)
    if not providers:
        return _walk(module, combined)
    positions = _positions(module, providers, combined.path)
    if positions is not None:
        from libcst.metadata import PositionProvider

        combined.metadata = {PositionProvider: positions}
        try:
            return _walk(module, combined)
        finally:
            combined.metadata = {}
    wrapper = cst.MetadataWrapper(module, unsafe_skip_copy=True)
    with combined.resolve(wrapper):  # what `wrapper.visit(combined)` does around `module.visit(combined)`
        return _walk(wrapper.module, combined)


class _Replay(cst.CSTTransformer):
    """Hands a node's own `_visit_and_replace_children` what the walk of each of its children gave (`results`, in
    the order it visits them) without walking them again: the node is built by LibCST itself, with its own rules for
    a child removed or flattened."""

    def __init__(self, results: list[tuple[cst.CSTNode, Any]]) -> None:
        super().__init__()
        self.results = results
        self.at = 0

    def on_visit(self, node: cst.CSTNode) -> bool:
        return False

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> Any:
        child, result = self.results[self.at]
        if child is not original_node:
            raise RuntimeError(f"{type(original_node).__name__} visited out of the walk's order")
        self.at += 1
        return result

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        return None

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        return None


def _walk(module: cst.Module, combined: _Combined) -> cst.Module:
    """`module.visit(combined)`, without rebuilding a node none of whose children the walk changed: LibCST builds
    every node it enters anew (the same fields, so the same code) to hand it to `on_leave`; here such a node is
    handed on as it is, and only a node one of whose children came back changed, removed or flattened is built, by
    its own `_visit_and_replace_children` given its children's results (`_Replay`). `combined` is called on the same
    nodes in the same order with equal nodes (children are visited in the order LibCST's own visit takes, learnt per
    kind of node as `read` does)."""
    is_node = IS_NODE
    on_visit, on_leave = combined.on_visit, combined.on_leave
    sentinels = (cst.RemovalSentinel, cst.FlattenSentinel)

    def walk(node: cst.CSTNode) -> Any:
        updated = node
        if on_visit(node):
            results: list[tuple[cst.CSTNode, Any]] = []
            changed = False
            for name in _order(node):
                value = getattr(node, name)
                kind = value.__class__
                if is_node[kind]:
                    out = walk(value)
                    results.append((value, out))
                    changed = changed or out is not value
                elif kind is tuple or kind is list:
                    for item in value:
                        if is_node[item.__class__]:
                            out = walk(item)
                            results.append((item, out))
                            changed = changed or out is not item
            if changed:
                replay = _Replay(results)
                updated = node._visit_and_replace_children(replay)
                if replay.at != len(results):
                    raise RuntimeError(f"{type(node).__name__} visited out of the walk's order")
        result = on_leave(node, updated)
        if not is_node[result.__class__] and not isinstance(result, sentinels):
            raise cst.CSTValidationError("Expected a node of type CSTNode or a RemovalSentinel, "
                                         f"but got a return value of {type(result).__name__}")
        return result

    try:
        result = walk(module)
    finally:
        # `walk` refers to itself, and through `combined` to the fixes and what they hold (facts, trees): without
        # the cycle all of it is freed now, as reference counts drop, not left for the collector to find
        walk = None  # type: ignore[assignment]
    if isinstance(result, cst.RemovalSentinel):  # as `Module.visit` answers
        return module.with_changes(body=(), header=(), footer=())
    return result


@functools.cache
def _with_metadata(providers: frozenset[object]) -> type[_Combined]:
    """The walk's class for a set of providers, made once per process: LibCST's isinstance checks against its
    visitor classes (abstract base classes) learn each new class by searching all their subclasses."""
    return type("_CombinedWithMetadata", (_Combined,), {"METADATA_DEPENDENCIES": tuple(providers)})


class _Above:
    """The parent of a node on the walk's path (what `StatementPositions` asks of a node's parents); None for a
    node off it."""

    def __init__(self, path: list[cst.CSTNode]) -> None:
        self.path = path

    def get(self, node: cst.CSTNode, default: cst.CSTNode | None = None) -> cst.CSTNode | None:
        path = self.path
        for i in range(len(path) - 1, 0, -1):
            if path[i] is node:
                return path[i - 1]
        return default


def _positions(module: cst.Module, providers: Sequence[object], path: list[cst.CSTNode]) -> Mapping[Any, Any] | None:
    """What the PositionProvider gives for `module`, worked out one statement at a time when a fix asks (see
    `_positions.StatementPositions`; the statements around a node are the walk's path to it, and a node off it is
    answered by the provider over the whole module), when positions are all the fixes ask and the module's text
    is known and parses; else None (LibCST's own resolution, before the walk)."""
    from libcst.metadata import PositionProvider

    from fleetshift.recipes._ast import parse_tree
    from fleetshift.recipes._positions import StatementPositions

    if any(p is not PositionProvider for p in providers):
        return None
    text = _text_of(module)
    if text is None:
        return None
    try:
        tree = parse_tree(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return StatementPositions(module, tree, _Above(path))  # type: ignore[arg-type]


# each kind of node's fields LibCST visits, in its visiting order, and its other fields
_ORDER: dict[type, tuple[tuple[str, ...], tuple[str, ...]]] = {}


class _FieldOrder(cst.CSTVisitor):
    """Records the fields a node's own `_visit_and_replace_children` visits, in its order, without descending."""

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        return False

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        self.names.append(attribute)


def _recorded(node: cst.CSTNode) -> tuple[str, ...]:
    recorder = _FieldOrder()
    node._visit_and_replace_children(recorder)
    names = tuple(dict.fromkeys(recorder.names))
    known = _ORDER.get(node.__class__)
    if known is None or len(names) > len(known[0]):
        _ORDER[node.__class__] = (names, tuple(n for n in _fields(node.__class__) if n not in names))
    return names


def _order(node: cst.CSTNode) -> tuple[str, ...]:
    """The fields `node`'s own visit goes through, in its order: learnt from LibCST once per kind of node, and
    again from a node holding a child in a field the nodes before it did not visit (a field some kinds visit only
    when it holds something, as an f-string's format spec)."""
    known = _ORDER.get(node.__class__)
    if known is None:
        return _recorded(node)
    names, others = known
    for name in others:
        value = getattr(node, name)
        if IS_NODE[value.__class__] or (value.__class__ in (tuple, list) and value):
            return _recorded(node)
    return names


def read(node: cst.CSTNode, visitor: cst.CSTVisitor) -> None:
    """`node.visit(visitor)` for a visitor that only reads (a `CSTVisitor`: its `on_visit` and `on_leave` get the
    same nodes in the same order), without LibCST building a copy of every node it visits to return it: each
    node's children are read from the fields its own visit goes through, in that order (learnt once per kind of
    node from LibCST itself). A visitor that visits fields (`visit_<Node>_<field>`) is not given them: use
    `node.visit` for one."""
    is_node = IS_NODE

    def walk(node: cst.CSTNode) -> None:
        if visitor.on_visit(node):
            for name in _order(node):
                value = getattr(node, name)
                kind = value.__class__
                if is_node[kind]:
                    walk(value)
                elif kind is tuple or kind is list:
                    for item in value:
                        if is_node[item.__class__]:
                            walk(item)
        visitor.on_leave(node)

    try:
        walk(node)
    finally:
        # it refers to itself, and to the visitor: without the cycle, nothing waits for the collector
        walk = None  # type: ignore[assignment]


def lone_import_from(line: cst.SimpleStatementLine, module: str) -> cst.ImportFrom | None:
    """The line's statement when it is its only one and an absolute `from <module> import ...` (not `*`)."""
    from libcst.helpers import get_full_name_for_node

    if len(line.body) != 1 or not isinstance(line.body[0], cst.ImportFrom):
        return None
    imp = line.body[0]
    if imp.relative or imp.module is None or get_full_name_for_node(imp.module) != module:
        return None
    return None if isinstance(imp.names, cst.ImportStar) else imp


ORIGINAL: dict[str, Callable[..., Any]] = {}  # LibCST's own searches, replaced below (kept for the tests)


def _introspect_once_per_class() -> None:
    """Make LibCST look through a visitor class once, not through every new instance of it.

    LibCST's matcher-decorated visitors (`AddImportsVisitor`, `RemoveImportsVisitor` and the gatherers they run)
    and its batchable metadata providers (parents, scopes, qualified names) search every attribute of each new
    instance (`dir()` over some 800 `visit_`/`leave_` methods) for decorated or visiting methods: tens of
    milliseconds per instance, many times the cost of parsing a small file, paid for every file a recipe rewrites.
    What the search finds depends on the class alone, so its names are kept per class and each instance gets
    its own bound methods under those names, exactly what the search would have returned."""
    from libcst import _batched_visitor as bv

    from fleetshift.recipes import _matchers

    _matchers.load()
    from libcst.matchers import _visitors as mv

    needed = ("_gather_matchers", "_gather_constructed_visit_funcs", "_gather_constructed_leave_funcs", "is_property",
              "_assert_not_concrete", "VISIT_POSITIVE_MATCHER_ATTR", "VISIT_NEGATIVE_MATCHER_ATTR",
              "CONSTRUCTED_VISIT_MATCHER_ATTR", "CONSTRUCTED_LEAVE_MATCHER_ATTR")
    if getattr(mv, "_fleetshift_per_class", False) or not all(hasattr(mv, n) for n in needed):
        return  # already done, or a LibCST release whose internals differ: its own searches stay (slower, same)
    ORIGINAL.update(gather_matchers=mv._gather_matchers, visit_funcs=mv._gather_constructed_visit_funcs,
                    leave_funcs=mv._gather_constructed_leave_funcs, get_visitors=bv.BatchableCSTVisitor.get_visitors)
    names: dict[tuple[type, str], tuple[str, ...]] = {}

    def marked(obj: object, attrs: tuple[str, ...], methods: bool) -> list[Any]:
        key = (type(obj), ",".join(attrs) + (":methods" if methods else ""))
        found = names.get(key)
        if found is None:
            hits = []
            for name in dir(obj):
                if mv.is_property(obj, name):
                    continue
                value = getattr(obj, name)
                if methods and not inspect.ismethod(value):
                    continue
                if any(getattr(value, a, None) for a in attrs):
                    hits.append(name)
            found = names[key] = tuple(hits)
        return [getattr(obj, name) for name in found]

    def gather_matchers(obj: object) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for func in marked(obj, (mv.VISIT_POSITIVE_MATCHER_ATTR, mv.VISIT_NEGATIVE_MATCHER_ATTR), False):
            for matcher in getattr(func, mv.VISIT_POSITIVE_MATCHER_ATTR, []):
                out[matcher] = None
            for matcher in getattr(func, mv.VISIT_NEGATIVE_MATCHER_ATTR, []):
                out[matcher] = None
        return out

    def constructed(attr: str, decorator: str) -> Callable[[object], dict[Any, Any]]:
        def gather(obj: object) -> dict[Any, Any]:
            out: dict[Any, Any] = {}
            for func in marked(obj, (attr,), True):
                matchers = getattr(func, attr, [])
                if matchers:
                    mv._assert_not_concrete(decorator, func)
                for matcher in matchers:
                    out[matcher] = (*out.get(matcher, ()), func)
            return out
        return gather

    def is_visitor(m: object) -> bool:
        name = getattr(m, "__name__", "")
        return inspect.ismethod(m) and name.startswith(("visit_", "leave_")) and not getattr(m, "_is_no_op", False)

    def get_visitors(self: object) -> dict[str, Any]:
        key = (type(self), "batched")
        found = names.get(key)
        if found is None:
            found = names[key] = tuple(name for name, _ in inspect.getmembers(self, is_visitor))
        return {name: getattr(self, name) for name in found}

    mv._gather_matchers = gather_matchers
    mv._gather_constructed_visit_funcs = constructed(mv.CONSTRUCTED_VISIT_MATCHER_ATTR, "visit")
    mv._gather_constructed_leave_funcs = constructed(mv.CONSTRUCTED_LEAVE_MATCHER_ATTR, "leave")
    bv.BatchableCSTVisitor.get_visitors = get_visitors  # type: ignore[method-assign]
    mv._fleetshift_per_class = True


def _no_walk_for_no_batch() -> None:
    """Make LibCST's metadata resolution skip the walk of a batch of no providers.

    `MetadataWrapper.resolve` (and a visit with metadata) resolves the providers that are not batchable one by one,
    then walks the whole module once for the batchable ones, even when there are none: asked only for positions
    (what every rule's fix asks), it walks the module a second time (every node rebuilt) to compute nothing. A batch
    of no providers computes no metadata, so it gets none without the walk; any other batch goes through as before."""
    from libcst.metadata import wrapper as mw

    if getattr(mw, "_fleetshift_no_empty_batch", False) or not hasattr(mw, "_gen_batchable"):
        return  # already done, or a LibCST release whose internals differ: its own resolution stays (slower, same)
    gen_batchable = ORIGINAL["gen_batchable"] = mw._gen_batchable

    def batch(wrapper: Any, providers: Any) -> Any:
        providers = list(providers)
        return gen_batchable(wrapper, providers) if providers else {}

    mw._gen_batchable = batch
    mw._fleetshift_no_empty_batch = True


def _parse_unchecked() -> None:
    """Make the nodes LibCST's parser builds for `parse` skip their validation.

    Every LibCST node checks its own fields when it is made (`CSTNode.__post_init__` calls `_validate`: the
    parentheses, whitespace and operators a node of its kind must have), which costs about an eighth of a parse. The
    nodes of a parsed module are the parser's reading of code that parses, valid by construction (LibCST's own note
    on `__post_init__` says as much); a node a fix builds, in any thread, is validated as before. Only while this
    thread's `_parsed` runs, and only on a LibCST release whose `__post_init__` does nothing but validate."""
    node = cst.CSTNode
    own = node.__dict__.get("__post_init__")
    if getattr(own, "_fleetshift_parse_unchecked", False) or own is None or own.__code__.co_names != ("_validate",):
        return  # already done, or a LibCST release whose nodes do more when made: every node is validated
    ORIGINAL["post_init"] = own
    parsing = _PARSING

    def post_init(self: cst.CSTNode) -> None:
        if not parsing.on:
            self._validate()

    post_init._fleetshift_parse_unchecked = True  # type: ignore[attr-defined]
    node.__post_init__ = post_init  # type: ignore[method-assign]


_introspect_once_per_class()
_no_walk_for_no_batch()
_parse_unchecked()
