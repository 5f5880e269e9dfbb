"""What every aiomqtt rule reads about one module: a frozen record built once per file, and the Site a rule reports.

`Facts` holds the parsed file with its scope index (which function and class hold each node), the names that
hold an MQTT Client (constructors, annotations, pytest fixtures) and the call statistics that say whether a
function may run twice at once. Its methods only read. A rule's `check(facts)` returns `Site`s: where the
rule applies, what it reports, and for an automatic rule the position-keyed edits its `Fix` makes, so that
detection and rewriting read the same decision.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace

from fleetshift import astparse
from fleetshift.model import Severity
from fleetshift.recipes._ast import Imports, by_class, walk
from fleetshift.recipes.aiomqtt import names as N
from fleetshift.recipes.aiomqtt.overlap import CallStats, LazyStats, call_stats
from fleetshift.recipes.rule import by_slug

RULES = "fleetshift.recipes.aiomqtt.rules"

Key = tuple[int, int, int, int]  # start line, start column (characters), end line, end column


@dataclass(frozen=True)
class Site:
    """A rule's site: where it is, what it says, whether the rewrite reports it, and the edits its fix makes.

    `edits` pairs the position of a node (a Key) with what the rule's Fix does there; `order` places the
    site in the recipe's report (see `AiomqttRecipe.report_order`).
    """

    rule: str
    line: int
    col: int
    message: str = ""
    finding: bool = False
    severity: Severity | None = None  # Severity.HUMAN or ADVICE when it is a Finding
    edits: tuple[tuple[Key, object], ...] = ()
    order: tuple[int, ...] = ()
    shown: bool = True  # False: only an edit that goes with another site, not a site of its own


def fix_text(slug: str) -> str:
    """The fix text of an aiomqtt rule, for messages that quote it."""
    return by_slug(RULES)[slug].fix


@dataclass(frozen=True, eq=False)
class Facts:
    """One file as the aiomqtt rules see it (identity-hashed, so shared analyses can be cached per file)."""

    text: str
    tree: ast.Module
    lines: tuple[str, ...]
    imports: Imports
    old_file: bool  # imports asyncio_mqtt (or aiomqtt 1.x paths)
    mqtt_file: bool  # imports an MQTT client library, or takes a Client fixture
    stats: Mapping[str, tuple[int, bool]]
    parents: Mapping[int, ast.AST]
    scopes: Mapping[int, tuple[ast.AST | None, ast.ClassDef | None]]
    receivers: Mapping[tuple[int, str], tuple[ast.Call | None, ...]]  # (scope id, code) -> constructors
    fixtures: frozenset[str]
    nodes: tuple[ast.AST, ...]  # every node, in ast.walk order (walk once, read many times)
    walk_index: Mapping[int, int]  # each node's place in that order
    kinds: Mapping[type, tuple[ast.AST, ...]]  # the nodes of each class, in that order (see `of`)
    service_uses_mqtt: bool = False  # another file of the service imports asyncio-mqtt/aiomqtt (rewrite only)
    imported_elsewhere: frozenset[str] = frozenset()  # module-level names another file of the service may import
    # what each rule's check found in these facts (`checked`): not copied by `replace`, whose facts may differ
    memo: dict[Callable[[Facts], list[Site]], list[Site]] = dataclasses.field(default_factory=dict, init=False, repr=False)

    def checked(self, check: Callable[[Facts], list[Site]]) -> list[Site]:
        """What `check` finds in these facts, found once: the recipe's sites and the fix of the same rule (which
        plans its edits from them) ask the same check of the same facts. Callers never change the list."""
        found = self.memo.get(check)
        if found is None:
            found = self.memo[check] = list(check(self))
        return found

    def of(self, *classes: type[ast.AST]) -> Sequence[ast.AST]:
        """The nodes of these classes, in walk order: what `[n for n in nodes if isinstance(n, classes)]` gives, for
        classes a parsed tree's nodes are of (not a base class such as `ast.expr`), read off the index built with
        the walk rather than by testing every node of the module."""
        if len(classes) == 1:
            return self.kinds.get(classes[0], ())
        found = [node for c in classes for node in self.kinds.get(c, ())]
        found.sort(key=lambda node: self.walk_index[id(node)])
        return found

    # ---- positions and sites ----------------------------------------------------------------------

    def key(self, node: ast.AST) -> Key:
        """The node's position with character columns, as LibCST's PositionProvider reports it."""
        return (
            node.lineno,  # type: ignore[attr-defined]
            self._col(node.lineno, node.col_offset),  # type: ignore[attr-defined]
            node.end_lineno or 0,  # type: ignore[attr-defined]
            self._col(node.end_lineno or 0, node.end_col_offset or 0),  # type: ignore[attr-defined]
        )

    def _col(self, line: int, byte_col: int) -> int:
        if not 0 < line <= len(self.lines):
            return byte_col
        return len(self.lines[line - 1].encode()[:byte_col].decode(errors="replace"))

    def site(
        self,
        rule: str,
        node: ast.AST,
        message: str = "",
        *,
        finding: bool = False,
        severity: Severity | None = None,
        edits: tuple[tuple[Key, object], ...] = (),
        anchor: ast.AST | None = None,
        order: tuple[int, ...] | None = None,
        shown: bool = True,
    ) -> Site:
        """A site at `node`; it is ordered by `anchor` (the node the check visited), default `node`."""
        if order is None:
            order = (self.walk_index.get(id(anchor if anchor is not None else node), 0),)
        line, col = getattr(node, "lineno", 0), getattr(node, "col_offset", 0)
        return Site(rule, line, col, message, finding, severity, edits, order, shown)

    def human(self, rule: str, node: ast.AST, message: str = "", **kw: object) -> Site:
        """A site that needs a human: reported as a Finding of severity HUMAN."""
        return self.site(rule, node, message, finding=True, severity=Severity.HUMAN, **kw)  # type: ignore[arg-type]

    def src(self, node: ast.AST) -> str:
        return _segment(self.text, node) or ast.unparse(node)

    # ---- scopes -----------------------------------------------------------------------------------

    def func_of(self, node: ast.AST) -> ast.AST | None:
        """The innermost function or lambda around `node`; None at module or class level."""
        return self.scopes.get(id(node), (None, None))[0]

    def class_of(self, node: ast.AST) -> ast.ClassDef | None:
        """The innermost class around `node`."""
        return self.scopes.get(id(node), (None, None))[1]

    def enclosing_funcs(self, node: ast.AST) -> Iterator[ast.AST | None]:
        func = self.func_of(node)
        while func is not None:
            yield func
            func = self.func_of(func)
        yield None

    def scope_for(self, target: ast.AST, at: ast.AST) -> int | None:
        """The scope a name bound at `at` belongs to: the class for `self.x`, the function for a plain name."""
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

    def block_of(self, stmt: ast.AST) -> list[ast.stmt]:
        """The statement list holding `stmt` (empty when it has none)."""
        parent = self.parents.get(id(stmt))
        for name in ("body", "orelse", "finalbody", "handlers"):
            block = getattr(parent, name, None)
            if isinstance(block, list) and stmt in block:
                return block
        return []

    # ---- clients ----------------------------------------------------------------------------------

    def is_client_call(self, node: ast.AST | None) -> bool:
        return isinstance(node, ast.Call) and self.imports.qualname(node.func) in N.CLIENT_QUALNAMES

    def comparisons(self) -> Iterator[ast.Compare]:
        """Every comparison of an MQTT file (none elsewhere)."""
        if self.mqtt_file:
            yield from self.of(ast.Compare)  # type: ignore[misc]

    def client_keywords(self) -> Iterator[tuple[ast.Call, ast.keyword, tuple[int, ...]]]:
        """Every keyword of every Client(...) call, with the order the report gives its site."""
        for node in _client_calls(self):
            for i, kw in enumerate(node.keywords):
                yield node, kw, (self.walk_index[id(node)], i)

    def known(self, recv: ast.AST, at: ast.AST) -> bool:
        """Whether `recv` holds an MQTT Client as seen from `at`."""
        return self.constructors(recv, at) is not None

    def constructors(self, recv: ast.AST, at: ast.AST) -> tuple[ast.Call | None, ...] | None:
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
        """Whether `call` opens an asyncio-mqtt message stream (messages()/filtered_messages()/...)."""
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)):
            return False
        if call.func.attr in ("filtered_messages", "unfiltered_messages"):
            return True
        return call.func.attr == "messages" and (in_with or self.known(call.func.value, at))


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


@functools.lru_cache(maxsize=8)
def _source_lines(text: str) -> list[str]:
    """The text's lines as `ast.get_source_segment` splits them (at \\r\\n, \\r and \\n only), split once per text."""
    return _LINE.findall(text)


def _segment(text: str, node: ast.AST) -> str | None:
    """`ast.get_source_segment(text, node)`, without splitting the text again for each node."""
    try:
        if node.end_lineno is None or node.end_col_offset is None:  # type: ignore[attr-defined]
            return None
        first, last = node.lineno - 1, node.end_lineno - 1  # type: ignore[attr-defined]
        col, end_col = node.col_offset, node.end_col_offset  # type: ignore[attr-defined]
    except AttributeError:
        return None
    lines = _source_lines(text)
    if first == last:
        return lines[first].encode()[col:end_col].decode()
    return "".join(
        [lines[first].encode()[col:].decode(), *lines[first + 1 : last], lines[last].encode()[:end_col].decode()]
    )


@functools.lru_cache(maxsize=64)
def _client_calls(facts: Facts) -> tuple[ast.Call, ...]:
    """The module's Client(...) calls in walk order, found once per facts (each keyword rule reads them)."""
    return tuple(node for node in facts.of(ast.Call) if facts.is_client_call(node))  # type: ignore[misc]


def mqtt_files_only(check: Callable[[Facts], list[Site]]) -> Callable[[Facts], list[Site]]:
    """A rule's `check` that looks only at files using an MQTT client (`Facts.mqtt_file`): other files have none
    of its sites."""

    @functools.wraps(check)
    def checked(facts: Facts) -> list[Site]:
        return check(facts) if facts.mqtt_file else []

    return checked


def facts_of(
    text: str,
    tree: ast.Module,
    stats: Mapping[str, tuple[int, bool]] | None = None,
    fixtures: frozenset[str] = frozenset(),
    service_uses_mqtt: bool = False,
    imported_elsewhere: frozenset[str] = frozenset(),
) -> Facts:
    """The facts of one file; `stats` are the service's call statistics, `fixtures` the Client fixtures of its
    other files (the file's own are found here), `service_uses_mqtt` whether the service (not only this file)
    imports asyncio-mqtt or aiomqtt."""
    imports, nodes, scopes, parents, walk_index, lines, kinds = _read(text, tree)
    old_file = imports.imports_module(N.OLD_PACKAGE)
    receivers, own = _clients(text, tree)
    facts = Facts(
        text=text,
        tree=tree,
        lines=lines,
        imports=imports,
        old_file=old_file,
        mqtt_file=old_file or imports.imports_module(N.NEW_PACKAGE),
        stats=stats if stats is not None else LazyStats(functools.partial(call_stats, tree, imports, nodes, parents)),
        parents=parents,
        scopes=scopes,
        receivers=receivers,
        fixtures=frozenset(),
        nodes=nodes,
        walk_index=walk_index,
        kinds=kinds,
        service_uses_mqtt=service_uses_mqtt,
        imported_elsewhere=imported_elsewhere,
    )
    fixtures = fixtures | own
    if not fixtures:
        return facts
    with_fixtures = replace(facts, fixtures=fixtures)
    mqtt_file = facts.mqtt_file or any(n.arg in fixtures for n in facts.of(ast.arg))  # type: ignore[attr-defined]
    return replace(with_fixtures, receivers=_receivers(with_fixtures), mqtt_file=mqtt_file)


@functools.lru_cache(maxsize=64)
def _read(text: str, tree: ast.Module) -> tuple[
    Imports,
    tuple[ast.AST, ...],
    dict[int, tuple[ast.AST | None, ast.ClassDef | None]],
    dict[int, ast.AST],
    dict[int, int],
    tuple[str, ...],
    dict[type, tuple[ast.AST, ...]],
]:
    """What the facts of a file read of its tree alone, read once per tree (the client fixtures of a service's
    files are found before each file's own facts are built): callers never change it."""
    imports = Imports(tree)
    nodes = tuple(walk(tree))
    parents, scopes = _parents_and_scopes(nodes)
    walk_index = {id(n): i for i, n in enumerate(nodes)}
    return imports, nodes, scopes, parents, walk_index, tuple(text.splitlines(keepends=True)), by_class(nodes)


@functools.lru_cache(maxsize=64)
def _clients(text: str, tree: ast.Module) -> tuple[dict[tuple[int, str], tuple[ast.Call | None, ...]], frozenset[str]]:
    """The names that hold a Client in a file, knowing no fixture of another file, and the file's own Client
    fixtures: read once per tree (the client fixtures of a service's files are found before each file's own facts
    are built), as they read the file alone (not the call statistics, nor what the service's other files say);
    callers never change them."""
    imports, nodes, scopes, parents, walk_index, lines, kinds = _read(text, tree)
    bare = Facts(
        text, tree, lines, imports, False, False, {}, parents, scopes, {}, frozenset(), nodes, walk_index, kinds
    )
    receivers = _receivers(bare)
    return receivers, fixtures_of(replace(bare, receivers=receivers))


_FUNCTIONS = frozenset({ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda})


def _parents_and_scopes(nodes: Sequence[ast.AST]) -> tuple[
    dict[int, ast.AST], dict[int, tuple[ast.AST | None, ast.ClassDef | None]]
]:
    """id() of each child of `nodes` -> its parent (what ast.iter_child_nodes gives, in its order), and id() of each
    node -> the innermost function (or lambda) and class around it, in one pass over `nodes` (a walk's order: a
    node comes before its children)."""
    parents: dict[int, ast.AST] = {}
    scopes: dict[int, tuple[ast.AST | None, ast.ClassDef | None]] = {id(nodes[0]): (None, None)} if nodes else {}
    for node in nodes:
        kind = node.__class__
        inner = scopes[id(node)]
        if kind in _FUNCTIONS:
            inner = (node, inner[1])
        elif kind is ast.ClassDef:
            inner = (None, node)  # type: ignore[assignment]
        for field in node._fields:
            value = getattr(node, field, None)
            if isinstance(value, ast.AST):
                parents[id(value)] = node
                scopes[id(value)] = inner
            elif value.__class__ is list:
                for item in value:
                    if isinstance(item, ast.AST):
                        parents[id(item)] = node
                        scopes[id(item)] = inner
    return parents, scopes


def own_stats(text: str, tree: ast.Module) -> CallStats:
    """A module's call statistics, read off the walk and parents its facts hold."""
    imports, nodes, _, parents, _, _, _ = _read(text, tree)
    return call_stats(tree, imports, nodes, parents)


def _is_client_annotation(facts: Facts, ann: ast.AST | None) -> bool:
    if ann is None:
        return False
    if isinstance(ann, ast.Constant) and isinstance(ann.value, str):
        try:
            ann = astparse.parse(ann.value, mode="eval")
        except SyntaxError:
            return False
    return any(
        isinstance(n, ast.Name | ast.Attribute) and facts.imports.qualname(n) in N.CLIENT_QUALNAMES
        for n in ast.walk(ann)
    )


def _receivers(facts: Facts) -> dict[tuple[int, str], tuple[ast.Call | None, ...]]:
    """Which names hold a Client: `async with Client() as c`, `c = Client()`, `c: Client`, fixtures."""
    found: dict[tuple[int, str], list[ast.Call | None]] = {}

    def add(target: ast.AST, at: ast.AST, ctor: ast.Call | None) -> None:
        scope = facts.scope_for(target, at)
        if scope is not None:
            found.setdefault((scope, ast.unparse(target)), []).append(ctor)

    for node in facts.of(ast.AsyncWith, ast.With, ast.Assign, ast.AnnAssign, ast.arg):
        if isinstance(node, ast.AsyncWith | ast.With):
            for item in node.items:
                if facts.is_client_call(item.context_expr) and item.optional_vars is not None:
                    add(item.optional_vars, node, item.context_expr)  # type: ignore[arg-type]
        elif isinstance(node, ast.Assign) and facts.is_client_call(node.value):
            for target in node.targets:
                add(target, node, node.value)  # type: ignore[arg-type]
        elif isinstance(node, ast.AnnAssign):
            if facts.is_client_call(node.value):
                add(node.target, node, node.value)  # type: ignore[arg-type]
            elif _is_client_annotation(facts, node.annotation):
                holder = facts.parents.get(id(node))
                if isinstance(node.target, ast.Name) and isinstance(holder, ast.ClassDef):
                    found.setdefault((id(holder), f"self.{node.target.id}"), []).append(None)
                    continue
                add(node.target, node, None)
        elif isinstance(node, ast.arg) and (
            _is_client_annotation(facts, node.annotation) or node.arg in facts.fixtures
        ):
            func = facts.parents.get(id(facts.parents.get(id(node))))  # arg -> arguments -> function
            if func is not None:
                found.setdefault((id(func), node.arg), []).append(None)
    return {k: tuple(v) for k, v in found.items()}


def fixtures_of(facts: Facts) -> frozenset[str]:
    """Names of the pytest fixtures in a file that yield or return an MQTT Client."""
    found = set()
    for node in facts.of(ast.FunctionDef, ast.AsyncFunctionDef):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or not node.decorator_list:
            continue
        if not any(
            ast.unparse(d.func if isinstance(d, ast.Call) else d).endswith("fixture")
            for d in node.decorator_list
        ):
            continue
        for n in ast.walk(node):
            value = n.value if isinstance(n, ast.Yield | ast.Return) else None
            if value is not None and (facts.is_client_call(value) or facts.known(value, n)):
                found.add(node.name)
    return frozenset(found)


def client_fixtures(text: str, tree: ast.Module) -> frozenset[str]:
    """Names of the pytest fixtures in a file that yield or return an MQTT Client."""
    return _clients(text, tree)[1]


__all__ = [
    "RULES",
    "CallStats",
    "Facts",
    "Key",
    "Site",
    "client_fixtures",
    "facts_of",
    "fix_text",
    "fixtures_of",
]
