"""Which migrated files a service's tests reach, read statically from the import graph (files are parsed
with `ast`, never run), and which migrated modules import at all in an environment.

A migration is proven only where a test that ran imports the migrated code. `reach` follows the imports of a
test file (and the conftest files pytest loads for it) through the service's own modules; `exercised` maps each
test file to the migrated files it reaches, and `verify.compare` names the migrated files no test that ran
reaches ("passed, not covered") and the migrated files the tests that could not run would have exercised.

`smoke_modules` picks the migrated production modules to import in an environment: every one, not only those
the tests import, so that an ImportError or AttributeError at import time is a regression like a failing test.
"""

from __future__ import annotations

import ast
import posixpath
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path

from fleetshift import astparse
from fleetshift.model import Service

# a top-level call that starts the program when the module is imported: such modules are not smoke-imported
_STARTS = re.compile(r"^(run|main|serve|serve_forever|run_forever|run_until_complete|loop_forever|start|run_app)$")


def _rel(service: Service, file: str) -> str:
    return posixpath.relpath(file, service.path or ".")


def module_names(service: Service) -> dict[str, str]:
    """Dotted module name -> fleet-relative file, for every Python file of the service (relative to the service
    folder, and to `src/` for files under it)."""
    out: dict[str, str] = {}
    for file in service.python_files:
        rel = _rel(service, file)
        if rel.startswith("../"):
            continue
        for base in (rel, rel[4:] if rel.startswith("src/") else ""):
            if not base:
                continue
            parts = base[:-3].split("/")
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if parts and all(p.isidentifier() for p in parts):
                out.setdefault(".".join(parts), file)
    return out


@lru_cache(maxsize=4096)
def _parse(path: str, mtime: float) -> ast.Module | None:
    try:
        return astparse.parse(Path(path).read_text("utf-8"))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return None


def _tree(path: Path) -> ast.Module | None:
    try:
        return _parse(str(path), path.stat().st_mtime)
    except OSError:
        return None


def imported(root: Path, file: str, module: str) -> set[str]:
    """Dotted names a file imports (each prefix too: importing a.b.c imports a and a.b), relative imports
    resolved against `module` (the file's own dotted name)."""
    tree = _tree(Path(root) / file)
    if tree is None:
        return set()
    package = module if file.endswith("__init__.py") else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".") if package else []
                if node.level > 1:
                    base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join([*base_parts, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            if base:
                names.add(base)
            names.update(f"{base}.{a.name}" if base else a.name for a in node.names if a.name != "*")
    out: set[str] = set()
    for name in names:
        parts = name.split(".")
        out.update(".".join(parts[: i + 1]) for i in range(len(parts)))
    return out


def _conftests(service: Service, file: str, files: set[str]) -> list[str]:
    """The conftest.py files pytest loads for a test file: in its folder and every folder above, up to the
    service folder."""
    out = []
    folder = posixpath.dirname(file)
    top = service.path.strip("/") if service.path not in ("", ".") else ""
    while True:
        candidate = posixpath.join(folder, "conftest.py") if folder else "conftest.py"
        if candidate in files:
            out.append(candidate)
        if not folder or folder == top:
            break
        folder = posixpath.dirname(folder)
    return out


def reach(root: Path, service: Service, start: Iterable[str]) -> set[str]:
    """Fleet-relative files of the service reachable from `start` through imports (and conftest files)."""
    names = module_names(service)
    by_file: dict[str, str] = {}
    for name, file in names.items():
        by_file.setdefault(file, name)
    all_files = set(service.python_files)
    todo = [f for s in start for f in (s, *_conftests(service, s, all_files))]
    seen: set[str] = set()
    while todo:
        file = todo.pop()
        if file in seen:
            continue
        seen.add(file)
        module = by_file.get(file, "")
        for name in imported(root, file, module):
            target = names.get(name)
            if target and target not in seen:
                todo.append(target)
    return seen


BEHAVE = "behave:steps"  # behave loads every steps file and environment.py for each scenario


def _dotted(service: Service, file: str) -> str:
    return _rel(service, file)[:-3].replace("/", ".")


def exercised(root: Path, service: Service, migrated: Iterable[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Each test file of the service (by its dotted path, as test ids name it), each top-level package an import
    smoke test imports (`import:<name>`) and behave's steps (`BEHAVE`), with the migrated files it reaches
    (itself included when migrated). Entries that reach none are kept: they name what ran."""
    wanted = set(migrated)
    out: list[tuple[str, tuple[str, ...]]] = []
    for test in service.test_files:
        out.append((_dotted(service, test), tuple(sorted(reach(root, service, [test]) & wanted))))
    names = module_names(service)
    for name in service.import_names:
        if name in names:
            out.append((f"import:{name}", tuple(sorted(reach(root, service, [names[name]]) & wanted))))
    steps = [f for f in service.python_files if re.match(r"(.*/)?features/", _rel(service, f))]
    if steps:
        out.append((BEHAVE, tuple(sorted(reach(root, service, steps) & wanted))))
    return tuple(out)


def match_test(test_id: str, keys: Iterable[str], kind: str = "") -> str | None:
    """The `exercised` key a test id comes from: its class path (`tests.test_x.TestY::test_z`, unittest's
    `tests.test_x.TestY.test_z`) against the test files' dotted paths; `import:<name>` as it is; every behave
    scenario to `BEHAVE`. None when nothing matches (the test's reach is then unknown)."""
    keys = list(keys)
    if kind == "behave":
        return BEHAVE if BEHAVE in keys else None
    if test_id in keys:
        return test_id
    head = test_id.split("::", 1)[0].split("[", 1)[0]
    best = ""
    for name in keys:
        if (head == name or head.startswith(name + ".")) and len(name) > len(best):
            best = name
    if best:
        return best
    tails = [n for n in keys if head.endswith("." + n) or n.endswith("." + head.split(".")[0])]
    return tails[0] if len(tails) == 1 else None


def smoke_modules(root: Path, service: Service, files: Iterable[str]) -> tuple[str, ...]:
    """Dotted names of the migrated production modules safe to import: not tests, conftest, setup.py or
    `__main__`, and not a module that starts the program at import (a top-level `main()`, `asyncio.run(...)`)."""
    names = module_names(service)
    by_file: dict[str, str] = {}
    for name, file in sorted(names.items(), key=lambda kv: len(kv[0])):  # the shortest: `pkg.mod` over `src.pkg.mod`
        by_file.setdefault(file, name)
    tests = set(service.test_files)
    out = []
    for file in files:
        base = posixpath.basename(file)
        rel = _rel(service, file)
        if file in tests or base in ("conftest.py", "setup.py", "__main__.py") or not file.endswith(".py"):
            continue
        if re.match(r"(tests?|testing|features)/", rel) or base.startswith("test_"):
            continue
        module = by_file.get(file)
        tree = _tree(Path(root) / file)
        if not module or tree is None or _starts_at_import(tree):
            continue
        out.append(module)
    return tuple(dict.fromkeys(out))


def _starts_at_import(tree: ast.Module) -> bool:
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, (ast.Call, ast.Await)):
            call = node.value.value if isinstance(node.value, ast.Await) else node.value
            func = call.func if isinstance(call, ast.Call) else None
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if _STARTS.match(name):
                return True
    return False


def could_not_run(
    test_ids: Iterable[str], exercises: Mapping[str, tuple[str, ...]], kind: str = ""
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Tests that could not run, each with the migrated files its test file reaches (only those that reach any)."""
    out = []
    for t in test_ids:
        key = match_test(t, exercises, kind)
        hit = exercises.get(key, ()) if key else ()
        if hit:
            out.append((t, hit))
    return tuple(out)


def not_covered(
    ran: Iterable[str], migrated: Iterable[str], exercises: Mapping[str, tuple[str, ...]], kind: str = ""
) -> tuple[str, ...] | None:
    """The migrated files no test in `ran` reaches; None when no test that ran can be placed (unknown)."""
    keys = [match_test(t, exercises, kind) for t in ran]
    placed = [k for k in keys if k is not None]
    if not placed:
        return None
    covered = {f for k in placed for f in exercises.get(k, ())}
    return tuple(f for f in migrated if f not in covered)


__all__ = [
    "BEHAVE",
    "could_not_run",
    "exercised",
    "imported",
    "match_test",
    "module_names",
    "not_covered",
    "reach",
    "smoke_modules",
]
