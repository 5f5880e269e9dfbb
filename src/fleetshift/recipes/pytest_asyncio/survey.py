"""The service-wide facts a pytest-asyncio rewrite depends on: active config, effective asyncio mode,
`event_loop` overrides (where they live, what becomes of them), anyio/trio use and marker hooks."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from fleetshift.recipes import _pytest_config as pc
from fleetshift.recipes._ast import Imports, keyword, parse_tree
from fleetshift.recipes.base import RewriteContext, file_kind
from fleetshift.recipes.pytest_asyncio.rules import BUILTIN_FIXTURES, RANK, WIDE

# a module importing pytest is test support (a conftest-like helper or a pytest plugin), never production code
_PYTEST_IMPORT = re.compile(r"^[ \t]*(?:import|from)[ \t]+(?:pytest|pytest_asyncio|_pytest)\b", re.MULTILINE)
_USES = re.compile(r"\bpytest_asyncio\b|\bmark\.asyncio\b|\bevent_loop\b")  # event_loop: its fixture
_BY_NAME = re.compile(r"""(?:getfixturevalue|usefixtures)\(\s*['"]event_loop['"]""")
# what an ASCII module spells to hold an event_loop override: a def of that name, or a keyword name= (a fixture's)
_MAY_OVERRIDE = re.compile(r"\bdef[\s\\]+event_loop\b|\bname[\s\\]*=")
_CONFIG_USES = ("asyncio_mode", "asyncio_default_", "--asyncio-mode", "pytest-asyncio", "pytest_asyncio")
_LOOP_FACTORIES = {"asyncio.new_event_loop", "asyncio.get_event_loop", "asyncio.get_event_loop_policy"}


@dataclass(frozen=True)
class Override:
    """A user-defined `event_loop` fixture and what becomes of it."""

    path: str
    line: int
    cls: str  # enclosing class name, "" at module level
    func: str
    scope: str | None  # None when not a literal
    plain: bool
    where: str  # "root-conftest", "conftest", "module", "class", "other"
    drain: bool = False  # plain but for a teardown that cancels and awaits the loop's pending tasks
    action: str = "finding"  # "delete" or "finding"
    loop: str | None = None  # loop scope given to the tests it served


@dataclass(frozen=True)
class Survey:
    """What the whole service looks like before its files are rewritten."""

    root: str
    cfg: pc.PytestConfig | None
    mode: str
    other_plugin: bool
    hook_marks: bool
    overrides: Mapping[tuple[str, str, str], Override] = field(default_factory=lambda: MappingProxyType({}))
    root_loop: str | None = None
    kept_override: Override | None = None
    uses_pytest_asyncio: bool = True  # a requirement, an import, an asyncio marker, its event_loop, a setting

    def shared_loop(self, path: str, cls: str = "") -> str | None:
        """The loop scope ("module", or "class" for a class) a deleted event_loop override there shared."""
        want = "class" if cls else "module"
        for ov in self.overrides.values():
            if ov.path == path and ov.cls == cls and ov.action == "delete" and ov.loop == want:
                return want
        return None


def is_test_code(path: str, text: str) -> bool:
    """Test code: a test module, a file under tests/, a conftest.py, or a module importing pytest (a plugin or
    fixture library). The recipe reads and rewrites nothing else: production code is not its business."""
    # (every import the pattern matches spells pytest: a text without the word needs no search at every position)
    return file_kind(path) != "source" or ("pytest" in text and _PYTEST_IMPORT.search(text) is not None)


def str_kw(call: ast.Call | bool | None, name: str) -> tuple[bool, str | None]:
    """(present, literal value or None) of a keyword of a fixture/marker call."""
    if not isinstance(call, ast.Call):
        return False, None
    kw = keyword(call, name)
    if kw is None:
        return False, None
    if isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
        return True, kw.value.value
    return True, None


def fixture_name(fn: ast.FunctionDef | ast.AsyncFunctionDef, deco: ast.Call | bool | None) -> str | None:
    """The name a fixture is requested by: its `name=` literal, else the function name (None if dynamic)."""
    named, name = str_kw(deco, "name")
    return name if named else fn.name


def params(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    """Names of a function's positional-only, ordinary and keyword-only parameters."""
    return [a.arg for a in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]]


def parse(text: str) -> ast.Module | None:
    try:
        return parse_tree(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def defs(tree: ast.Module) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Module-level and class-level function definitions with the enclosing class name."""
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield "", node
        elif isinstance(node, ast.ClassDef):
            for sub in node.body:
                if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    yield node.name, sub


def plain_loop_body(fn: ast.FunctionDef | ast.AsyncFunctionDef, imports: Imports) -> bool:
    """True when an event_loop fixture only creates a default asyncio loop, yields it and closes it."""
    if isinstance(fn, ast.AsyncFunctionDef):
        return False
    if any(p not in ("request", "self", "cls") for p in params(fn)) or fn.args.vararg or fn.args.kwarg:
        return False
    stmts: list[ast.stmt] = []
    todo = list(fn.body)
    while todo:
        s = todo.pop(0)
        if isinstance(s, ast.Try) and not s.handlers and not s.orelse:
            todo = [*s.body, *s.finalbody, *todo]
        else:
            stmts.append(s)
    names: set[str] = set()  # names holding the loop or the default policy

    def loopish(e: ast.expr) -> bool:
        if isinstance(e, ast.Call) and not e.args and not e.keywords:
            if imports.qualname(e.func) in _LOOP_FACTORIES:
                return True
            f = e.func
            if isinstance(f, ast.Attribute) and f.attr == "new_event_loop":
                return loopish(f.value) or (isinstance(f.value, ast.Name) and f.value.id in names)
        return False

    for s in stmts:
        if isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant) and isinstance(s.value.value, str):
            continue
        if (
            isinstance(s, ast.Assign)
            and len(s.targets) == 1
            and isinstance(s.targets[0], ast.Name)
            and loopish(s.value)
        ):
            names.add(s.targets[0].id)
            continue
        val = s.value if isinstance(s, (ast.Expr, ast.Return)) else None
        if isinstance(val, (ast.Yield, ast.Return)) or isinstance(s, ast.Return):
            inner = val.value if isinstance(val, ast.Yield) else val
            if inner is not None and ((isinstance(inner, ast.Name) and inner.id in names) or loopish(inner)):
                continue
            return False
        if isinstance(val, ast.Call):
            f = val.func
            if imports.qualname(f) == "asyncio.set_event_loop" and len(val.args) == 1:
                a = val.args[0]
                if (isinstance(a, ast.Name) and a.id in names) or (
                    isinstance(a, ast.Constant) and a.value is None
                ):
                    continue
            if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in names:
                if f.attr == "close" and not val.args:
                    continue
                if f.attr == "run_until_complete" and len(val.args) == 1:
                    a = val.args[0]
                    if (
                        isinstance(a, ast.Call)
                        and isinstance(a.func, ast.Attribute)
                        and a.func.attr
                        in (
                            "shutdown_asyncgens",
                            "shutdown_default_executor",
                        )
                    ):
                        continue
        return False
    return bool(names) or any(isinstance(s, (ast.Expr, ast.Return)) for s in stmts)


_DRAIN_CALLS = frozenset(
    {"asyncio.all_tasks", "asyncio.Task.all_tasks", "asyncio.tasks.all_tasks", "asyncio.gather", "asyncio.wait"}
)
_DRAIN_METHODS = frozenset({"cancel", "done", "cancelled", "run_until_complete"})


def _drain_stmt(stmt: ast.stmt, imports: Imports) -> bool:
    """A teardown statement that only gathers, cancels and awaits the loop's pending tasks (or logs)."""
    if not isinstance(stmt, (ast.Assign, ast.Expr, ast.For, ast.If)):
        return False
    for node in ast.walk(stmt):
        if isinstance(node, (ast.Yield, ast.YieldFrom, ast.Return, ast.Lambda, ast.Await)):
            return False
        if not isinstance(node, ast.Call):
            continue
        q = imports.qualname(node.func) or ""
        f = node.func
        if q in _DRAIN_CALLS or (isinstance(f, ast.Name) and f.id in ("list", "set", "len")):
            continue
        if isinstance(f, ast.Attribute) and (f.attr in _DRAIN_METHODS or f.attr in ("debug", "info", "warning")):
            continue
        return False
    return True


def drain_body(fn: ast.FunctionDef | ast.AsyncFunctionDef, imports: Imports) -> bool:
    """True when an event_loop fixture is plain (see `plain_loop_body`) but for teardown statements that cancel
    and await the loop's pending tasks, which pytest-asyncio >=1.1 does itself when a loop scope ends."""
    at = next((i for i, s in enumerate(fn.body) if isinstance(s, ast.Expr) and isinstance(s.value, ast.Yield)), None)
    if at is None or isinstance(fn, ast.AsyncFunctionDef):
        return False
    after = fn.body[at + 1 :]
    drains = [s for s in after if _drain_stmt(s, imports) and not _closing(s)]
    if not any(imports.qualname(c.func) in _DRAIN_CALLS - {"asyncio.gather", "asyncio.wait"}
               for s in drains for c in ast.walk(s) if isinstance(c, ast.Call)):
        return False
    rest = [*fn.body[: at + 1], *(s for s in after if s not in drains)]
    return plain_loop_body(ast.FunctionDef(fn.name, fn.args, rest, fn.decorator_list, fn.returns), imports)


def _closing(stmt: ast.stmt) -> bool:
    """`loop.run_until_complete(loop.shutdown_asyncgens())` and the like, which the plain check accepts itself."""
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Call)
        and bool(stmt.value.args)
        and isinstance(stmt.value.args[0], ast.Call)
        and isinstance(stmt.value.args[0].func, ast.Attribute)
        and stmt.value.args[0].func.attr in ("shutdown_asyncgens", "shutdown_default_executor")
    )


def survey(ctx: RewriteContext, root: str | None = None, drain_ok: bool = True) -> Survey:
    """Look across a service: its active config and mode, event_loop overrides, other async plugins.

    `drain_ok`: an override that drains pending tasks at teardown may go (the event-loop-override-drain rule is
    active: every release the campaign may install cancels them itself)."""
    root = ctx.service.path if root is None else root
    files = ctx.files
    cfg = pc.active(files, root)
    py = {p: t for p, t in files.items() if p.endswith(".py") and is_test_code(p, t)}
    other = any(
        tok in t
        for t in py.values()
        for tok in ("pytest.mark.anyio", "anyio_backend", "pytest_trio", "pytest.mark.trio")
    ) or any(tok in str(cfg.values if cfg else "") for tok in ("trio_mode",))
    hook = any(
        "add_marker" in t and ("asyncio" in t or "is_async_test" in t)
        for p, t in py.items()
        if p.endswith("conftest.py")
    )
    overrides = judged_overrides(py, drain_ok)
    root_loop: str | None = None
    kept: Override | None = None
    for ov in overrides.values():
        if ov.action == "delete" and ov.where == "root-conftest" and ov.loop:
            if root_loop is None or RANK[ov.loop] > RANK[root_loop]:
                root_loop = ov.loop
        if ov.action == "finding":
            kept = ov
    uses = (
        any(p.package == "pytest-asyncio" for p in ctx.service.pins)
        or any(_USES.search(t) for t in py.values())
        or any(tok in t for p, t in files.items() if not p.endswith(".py") for tok in _CONFIG_USES)
    )
    return Survey(root, cfg, pc.asyncio_mode(cfg), other, hook, MappingProxyType(overrides), root_loop, kept, uses)


def judged_overrides(py: Mapping[str, str], drain_ok: bool = True) -> dict[tuple[str, str, str], Override]:
    """Every `event_loop` override in a service's test code (`py`: path -> text), keyed by (path, class,
    function), with what becomes of it (see `_judged`). `drain_ok` as for `survey`."""
    tests = [p for p in py if pc.is_test_module(p)]
    overrides: dict[tuple[str, str, str], Override] = {}
    # something else still uses the override (a text matching the pattern spells event_loop: the others are passed
    # over at the speed of a substring search)
    by_name = any("event_loop" in t and _BY_NAME.search(t) for t in py.values())
    for path, text in py.items():
        if "event_loop" not in text or (text.isascii() and _MAY_OVERRIDE.search(text) is None):
            continue  # no fixture named event_loop: a def of that name or name="event_loop" (NFKC aside)
        tree = parse(text)
        if tree is None:
            continue
        imports = Imports(tree)
        kind = file_kind(path)
        for cls, fn in defs(tree):
            deco = pc.ast_fixture_call(fn, imports)
            if deco is None or fixture_name(fn, deco) != "event_loop":
                continue
            has_scope, scope = str_kw(deco, "scope")
            scope = scope if has_scope else "function"
            if kind == "conftest":
                folder = path.rsplit("/", 1)[0] + "/" if "/" in path else ""
                where = "root-conftest" if all(t.startswith(folder) for t in tests) else "conftest"
            elif kind == "test" and pc.is_test_module(path):
                where = "class" if cls else "module"
            else:
                where = "other"
            plain = plain_loop_body(fn, imports)
            drain = not plain and drain_ok and not by_name and drain_body(fn, imports)
            ov = Override(path, fn.lineno, cls, fn.name, scope, plain or drain, where, drain)
            overrides[(path, cls, fn.name)] = _judged(ov)
    return overrides


def _judged(ov: Override) -> Override:
    """The override with what becomes of it: deleted (and the loop its tests shared) or left for a human."""
    if ov.plain and ov.scope == "function" and ov.where != "other":
        return replace(ov, action="delete")
    if ov.plain and ov.where == "root-conftest" and ov.scope in ("module", "session"):
        return replace(ov, action="delete", loop=ov.scope)
    if ov.plain and ov.where == "module" and ov.scope in ("module", "package", "session"):
        return replace(ov, action="delete", loop="module")
    if ov.plain and ov.where == "class" and ov.scope in WIDE:
        return replace(ov, action="delete", loop="class")
    return ov


def outside_fixtures(ov: Override, text: str) -> list[str]:
    """Fixtures the async tests served by a deleted module/class override request but that live elsewhere."""
    tree = parse(text)
    if tree is None:
        return []
    imports = Imports(tree)
    local, requested = set(), set()
    for cls, fn in defs(tree):
        if ov.loop == "class" and cls != ov.cls:
            continue
        if pc.ast_fixture_call(fn, imports) is not None:
            local.add(fn.name)
        elif isinstance(fn, ast.AsyncFunctionDef) and fn.name.startswith("test"):
            requested |= {a.arg for a in fn.args.args}
    return sorted(requested - local - BUILTIN_FIXTURES - {"event_loop"})
