"""Which functions may run twice at once: call counts and task spawning, per file and across a service."""

from __future__ import annotations

import ast
import functools
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence, Set

from fleetshift.recipes._ast import Imports, parents, parse_tree, walk
from fleetshift.recipes.aiomqtt import names as N
from fleetshift.recipes.aiomqtt.tree import callee_name

TASK_SPAWNERS = frozenset(
    {"create_task", "gather", "ensure_future", "start_soon", "run_coroutine_threadsafe"}
)

CallStats = dict[str, tuple[int, bool]]  # function name -> (call sites, whether two of its calls may overlap)


def call_stats(
    tree: ast.AST,
    imports: Imports | None = None,
    nodes: Sequence[ast.AST] | None = None,
    up: Mapping[int, ast.AST] | None = None,
) -> CallStats:
    """How often each function name is called in a file, and whether two of its calls may run at once.

    Calls overlap when one is handed to a task API (create_task, gather, TaskGroup...) inside a loop or a
    comprehension, or when one function body both spawns it and calls it again. A call spawned once per pass
    of a loop that makes a new Client each pass and hands it that client (a listener started once per
    connection of a reconnect loop) does not overlap: each pass's task reads its own client.
    `imports` resolves `Client` when `tree` is a function rather than its module; `nodes` (in `ast.walk` order) and
    `up` (each node's parent) are the tree's when its module's facts already hold them.
    """
    imports = imports if imports is not None else Imports(tree)
    up = up if up is not None else parents(tree)
    counts: Counter[str] = Counter()
    per_body: Counter[tuple[str, int]] = Counter()
    spawned_in: set[tuple[str, int]] = set()
    overlap: set[str] = set()
    fresh: dict[int, set[str]] = {}  # id() of a loop -> the names each of its passes binds to a new Client
    for node in nodes if nodes is not None else walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = callee_name(node.func)
        if not name or _stdlib_call(node.func):
            continue
        counts[name] += 1
        child: ast.AST = node
        parent = up.get(id(node))
        is_spawned, in_loop = False, False
        while parent is not None and not isinstance(
            parent, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
        ):
            if isinstance(parent, ast.Call) and callee_name(parent.func) in TASK_SPAWNERS:
                is_spawned = True
            if isinstance(
                parent, ast.comprehension | ast.ListComp | ast.GeneratorExp | ast.SetComp | ast.Starred
            ):
                in_loop = True
            if (
                isinstance(parent, ast.For | ast.AsyncFor | ast.While)
                and child is not getattr(parent, "iter", None)
                and not (in_loop is False and _gets_a_new_client(node, parent, imports, fresh))
            ):
                in_loop = True
            child, parent = parent, up.get(id(parent))
        body = (name, id(parent))
        per_body[body] += 1
        if is_spawned:
            spawned_in.add(body)
            if in_loop:
                overlap.add(name)
    overlap |= {name for (name, body) in spawned_in if per_body[(name, body)] > 1}
    return {n: (c, n in overlap) for n, c in counts.items()}


def _gets_a_new_client(call: ast.Call, loop: ast.For | ast.AsyncFor | ast.While, imports: Imports,
                       known: dict[int, set[str]] | None = None) -> bool:
    """Whether `call` is handed a name that each pass of `loop` binds to a new Client (`known`: those names of the
    loops asked about before, by id() of the loop; each loop's body is walked once for all the calls in it)."""
    fresh = known.get(id(loop)) if known is not None else None
    if fresh is None:
        fresh = _new_clients(loop, imports)
        if known is not None:
            known[id(loop)] = fresh
    given = [*call.args, *(kw.value for kw in call.keywords)]
    return any(isinstance(a, ast.Name) and a.id in fresh for a in given)


def _new_clients(loop: ast.For | ast.AsyncFor | ast.While, imports: Imports) -> set[str]:
    """The names each pass of `loop` binds to a new Client."""
    fresh: set[str] = set()
    for stmt in loop.body:
        for n in ast.walk(stmt):
            if isinstance(n, ast.With | ast.AsyncWith):
                fresh.update(
                    i.optional_vars.id
                    for i in n.items
                    if isinstance(i.optional_vars, ast.Name) and _is_client(i.context_expr, imports)
                )
            elif isinstance(n, ast.Assign) and _is_client(n.value, imports):
                fresh.update(t.id for t in n.targets if isinstance(t, ast.Name))
    return fresh


def _is_client(node: ast.AST, imports: Imports) -> bool:
    return isinstance(node, ast.Call) and imports.qualname(node.func) in N.CLIENT_QUALNAMES


def defined_functions(tree: ast.AST) -> set[str]:
    """Names of the functions a file defines (at any depth)."""
    return {n.name for n in walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}


@functools.lru_cache(maxsize=256)
def file_stats(text: str) -> tuple[CallStats, frozenset[str]]:
    """A file's call statistics and the functions it defines, computed once per text."""
    tree = parse_tree(text)
    return call_stats(tree), frozenset(defined_functions(tree))


def _may_name(text: str, name: str) -> bool:
    """Whether a call of (or a definition named) `name` may be in `text`: a name is spelled out in the source,
    unless the source has non-ASCII identifiers (which Python normalizes)."""
    return name in text or not text.isascii()


class LazyStats(Mapping[str, tuple[int, bool]]):
    """`merge_stats(own, others)` computed name by name when a rule asks: the own file's statistics once, and of
    the other files only those whose text names the function (their statistics cached per text)."""

    def __init__(self, own: Callable[[], CallStats], others: Sequence[str] = (), unread: Set[str] = frozenset()) -> None:
        self._own_of = own
        self._own: CallStats | None = None
        self._others = others
        self._unread = unread  # texts of `others` not yet parsed: one that does not parse counts as absent
        self._found: dict[str, tuple[int, bool] | None] = {}

    def _parses(self, text: str) -> bool:
        """Whether an other file counts: it does unless it is one not parsed yet and does not parse (as a file the
        caller failed to parse is not among the others)."""
        if text not in self._unread:
            return True
        try:
            parse_tree(text)
        except (SyntaxError, RecursionError, MemoryError):
            return False
        return True

    def _own_stats(self) -> CallStats:
        if self._own is None:
            self._own = self._own_of()
        return self._own

    def _lookup(self, name: str) -> tuple[int, bool] | None:
        if name not in self._found:
            found = self._own_stats().get(name)
            for text in self._others:
                if not _may_name(text, name) or not self._parses(text):
                    continue
                stats, defined = file_stats(text)
                if name in stats and name not in defined:
                    count, overlap = stats[name]
                    old = found or (0, False)
                    found = (old[0] + count, old[1] or overlap)
            self._found[name] = found
        return self._found[name]

    def __getitem__(self, name: str) -> tuple[int, bool]:
        found = self._lookup(name) if isinstance(name, str) else None
        if found is None:
            raise KeyError(name)
        return found

    def _all(self) -> CallStats:
        others = [(*file_stats(t),) for t in self._others if self._parses(t)]
        return merge_stats(self._own_stats(), others)  # type: ignore[misc]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


def merge_stats(own: CallStats, others: Sequence[tuple[CallStats, Set[str]]]) -> CallStats:
    """A file's call stats plus those of other files, skipping names another file defines for itself."""
    out: dict[str, tuple[int, bool]] = dict(own)
    for stats, defined in others:
        for name, (count, overlap) in stats.items():
            if name not in defined:
                old = out.get(name, (0, False))
                out[name] = (old[0] + count, old[1] or overlap)
    return out


def _stdlib_call(func: ast.AST) -> bool:
    """`asyncio.run(...)` and the like: an attribute of a standard-library module, not a local function."""
    return (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id in sys.stdlib_module_names
    )


def may_overlap(stats: Mapping[str, tuple[int, bool]], name: str) -> bool:
    """Whether two calls of `name` may run at the same time."""
    return stats.get(name, (0, False))[1]
