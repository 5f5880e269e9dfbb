"""A module-level Client() that only the module's entry coroutine (and what it awaits) uses.

aiomqtt>=2.3.1 Client() needs a running event loop, so `client = Client(...)` at import time fails. When the
module runs one coroutine with `asyncio.run(main())`, and every use of the name lies in async functions that
`main` reaches by calling them, the client can be built at the top of `main` (`global client`) and the
module-level line becomes an annotation. Every other shape is left to a human (client-outside-loop).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import PurePosixPath

from fleetshift.recipes.aiomqtt.facts import Facts

_RUNNERS = {"asyncio.run"}


@dataclass(frozen=True)
class Move:
    """Build the client bound by `assign` (module level) at the top of the entry coroutine `entry`."""

    assign: ast.Assign | ast.AnnAssign
    name: str
    entry: ast.AsyncFunctionDef


def moves(facts: Facts) -> tuple[Move, ...]:
    """The module-level clients the rewrite moves into the entry coroutine."""
    return _moves(facts)


@lru_cache(maxsize=64)
def _moves(facts: Facts) -> tuple[Move, ...]:
    if not facts.mqtt_file:
        return ()
    tree = facts.tree
    candidates = [
        stmt for stmt in tree.body if _target(stmt) is not None and facts.is_client_call(stmt.value)
    ]
    if not candidates:
        return ()
    entry = _entry(facts)
    if entry is None:
        return ()
    defs = {s.name: s for s in tree.body if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef)}
    reached = _reached(entry, defs)
    out = []
    for assign in candidates:
        name = _target(assign).id  # type: ignore[union-attr]
        if name in facts.imported_elsewhere or not _only_in(facts, assign, name, entry, reached, defs):
            continue
        out.append(Move(assign, name, entry))
    return tuple(out)


def _target(stmt: ast.stmt) -> ast.Name | None:
    """The one plain name a module-level `name = ...` or `name: T = ...` binds."""
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
        return stmt.targets[0]
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
        return stmt.target
    return None


def _entry(facts: Facts) -> ast.AsyncFunctionDef | None:
    """The one module-level coroutine function the module runs with asyncio.run(f())."""
    run: set[str] = set()
    for node in facts.of(ast.Call):
        if isinstance(node, ast.Call) and facts.imports.qualname(node.func) in _RUNNERS:
            arg = node.args[0] if node.args else None
            if not (isinstance(arg, ast.Call) and isinstance(arg.func, ast.Name)):
                return None  # asyncio.run(something else): not a shape the rewrite knows
            run.add(arg.func.id)
    if len(run) != 1:
        return None
    (name,) = run
    found = [
        s for s in facts.tree.body if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef) and s.name == name
    ]
    if len(found) != 1 or not isinstance(found[0], ast.AsyncFunctionDef) or found[0].decorator_list:
        return None
    return found[0]


def _called(func: ast.AST) -> set[str]:
    return {n.func.id for n in ast.walk(func) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}


def _reached(entry: ast.AsyncFunctionDef, defs: Mapping[str, ast.AST]) -> set[str]:
    """The module-level async functions the entry calls, directly or through each other."""
    seen, todo = {entry.name}, [entry]
    while todo:
        for name in _called(todo.pop()):
            func = defs.get(name)
            if isinstance(func, ast.AsyncFunctionDef) and name not in seen:
                seen.add(name)
                todo.append(func)
    return seen


def _only_in(
    facts: Facts,
    assign: ast.Assign | ast.AnnAssign,
    name: str,
    entry: ast.AsyncFunctionDef,
    reached: set[str],
    defs: Mapping[str, ast.AST],
) -> bool:
    """Whether every other mention of `name` is a read inside async code the entry reaches first."""
    target = _target(assign)
    # the statement's own parts name nothing: Client(..., identifier="client"), its annotation
    own = {
        id(n) for part in (assign.value, getattr(assign, "annotation", None)) if part for n in ast.walk(part)
    }
    used = False
    for node in facts.of(ast.Global, ast.Nonlocal, ast.arg, ast.Constant, ast.Name):  # what the tests below read
        if node is target or id(node) in own:
            continue
        if isinstance(node, ast.Global | ast.Nonlocal) and name in node.names:
            return False
        if isinstance(node, ast.arg) and node.arg == name:
            return False
        if isinstance(node, ast.Constant) and node.value == name:
            return False  # __all__, getattr(module, "client"), patch targets
        if not (isinstance(node, ast.Name) and node.id == name):
            continue
        if not isinstance(node.ctx, ast.Load):
            return False
        chain = list(facts.enclosing_funcs(node))[:-1]  # innermost first, without the module
        if not chain or not all(isinstance(f, ast.AsyncFunctionDef) for f in chain):
            return False
        outer = chain[-1]
        if facts.class_of(node) is not None or getattr(outer, "name", "") not in reached:
            return False
        if defs.get(outer.name) is not outer:  # type: ignore[attr-defined]
            return False
        used = True
    if not used:
        return False
    # the reached helpers run only from the entry: nothing outside the reached functions names them
    for node in facts.of(ast.Name):
        if isinstance(node, ast.Name) and node.id in reached - {entry.name}:
            chain = list(facts.enclosing_funcs(node))[:-1]
            if not chain or getattr(chain[-1], "name", "") not in reached:
                return False
    for helper in reached - {entry.name}:
        if defs[helper].decorator_list:  # type: ignore[attr-defined]
            return False
    # the call's names must mean the same inside the entry as at module level
    bound = {a.arg for a in ast.walk(entry.args) if isinstance(a, ast.arg)} | {
        n.id for n in ast.walk(entry) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)
    }
    loaded = {n.id for n in ast.walk(assign.value) if isinstance(n, ast.Name)} if assign.value else set()
    return not (loaded & bound) and assign.lineno < _first_use_line(facts, name, entry)


def _first_use_line(facts: Facts, name: str, entry: ast.AsyncFunctionDef) -> int:
    """Where the module calls the entry (the client must be assigned above that at module level)."""
    lines = [
        n.lineno
        for n in facts.of(ast.Call)
        if isinstance(n, ast.Call)
        and isinstance(n.func, ast.Name)
        and n.func.id == entry.name
        and facts.func_of(n) is None
    ]
    return min(lines, default=10**9)


def imported_elsewhere(path: str, text: str, files: Mapping[str, str]) -> frozenset[str]:
    """Names bound to Client() at module level in `path` that another file of the service may import.

    A text test, on the safe side: another file that imports the module (by its name) and mentions the name.
    """
    names = re.findall(r"^([A-Za-z_]\w*)\s*(?::[^=\n]*)?=\s*[\w.]*Client\(", text, re.M)
    if not names:
        return frozenset()
    stem = PurePosixPath(path).stem
    if stem == "__init__":
        stem = PurePosixPath(path).parent.name
    imports = re.compile(rf"^\s*(from|import)\s[^\n]*\b{re.escape(stem)}\b", re.M)
    out = set()
    for other, other_text in files.items():
        if other == path or not other.endswith(".py") or not imports.search(other_text):
            continue
        out.update(n for n in names if re.search(rf"\b{re.escape(n)}\b", other_text))
    return frozenset(out)


def all_imported_elsewhere(paths: Iterable[str], files: Mapping[str, str]) -> dict[str, frozenset[str]]:
    return {p: imported_elsewhere(p, files[p], files) for p in paths if p in files}
