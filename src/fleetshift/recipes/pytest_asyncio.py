"""pytest-asyncio 0.21/0.23 -> 1.x: event_loop fixture and overrides, loop scopes, strict-mode markers, config.

The service-wide survey (active pytest config, effective asyncio mode, `event_loop` overrides and where they
live, anyio/trio use, marker hooks) decides what each file rewrite may do. `asyncio_mode` is never removed:
strict is the default, so dropping `auto` breaks unmarked tests. `asyncio_default_fixture_loop_scope` is always
written to the active config file; a service with no pytest config at all gets a `[tool.pytest.ini_options]`
table in its pyproject.toml, or a new pytest.ini when it has no pyproject.toml.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor
from libcst.metadata import MetadataWrapper, PositionProvider
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from fleetshift.model import Action, Finding, Severity, UsageSite
from fleetshift.recipes import _pytest_config as pc
from fleetshift.recipes._ast import Imports, decorator_calls, keyword
from fleetshift.recipes.base import (
    ConfigFile,
    FileKind,
    PinChange,
    Recipe,
    RewriteContext,
    Rule,
    ServiceRewrite,
    SourceFile,
    file_kind,
)

DOCS = "https://pytest-asyncio.readthedocs.io/en/stable"
MIGRATE_021 = f"{DOCS}/how-to-guides/migrate_from_0_21.html"
MIGRATE_023 = f"{DOCS}/how-to-guides/migrate_from_0_23.html"
CHANGELOG = f"{DOCS}/reference/changelog.html"
CONFIG = f"{DOCS}/reference/configuration.html"
FIXTURES = f"{DOCS}/reference/fixtures/index.html"
CONCEPTS = f"{DOCS}/concepts.html"

SCOPES = ("function", "class", "module", "package", "session")
WIDE = frozenset(SCOPES[1:])
RANK = {s: i for i, s in enumerate(SCOPES)}
MARK = "pytest.mark.asyncio"
BUILTIN_FIXTURES = frozenset(
    "self cls request tmp_path tmp_path_factory tmpdir tmpdir_factory monkeypatch capsys capfd caplog "
    "recwarn pytestconfig record_property record_testsuite_property doctest_namespace cache capsysbinary "
    "capfdbinary subtests event_loop_policy unused_tcp_port unused_udp_port".split()
)


def _r(slug: str, summary: str, action: Action, fix: str, link: str, since: str) -> Rule:
    return Rule(f"pytest-asyncio/{slug}", summary, action, fix, link, since)


RULES = (
    _r(
        "event-loop-fixture",
        "a test or fixture requests the removed `event_loop` fixture",
        Action.AUTO,
        "async functions use asyncio.get_running_loop(); sync ones whose only use is "
        "event_loop.run_until_complete(E) become async and await E; otherwise convert <name> to an async "
        "test/fixture and use asyncio.get_running_loop() (pytest-asyncio >=1.0 removed the event_loop fixture)",
        MIGRATE_021,
        "1.0.0",
    ),
    _r(
        "event-loop-request",
        "`event_loop` requested by name (getfixturevalue / usefixtures)",
        Action.HUMAN,
        "pytest-asyncio >=1.0 removed the event_loop fixture; request nothing and use asyncio.get_running_loop() "
        "inside an async test or fixture",
        MIGRATE_021,
        "1.0.0",
    ),
    _r(
        "event-loop-override",
        "custom `event_loop` fixture override (ignored by pytest-asyncio >=1.0)",
        Action.AUTO,
        "a plain override is deleted: root-conftest session/module scope becomes the config defaults "
        "asyncio_default_fixture_loop_scope/asyncio_default_test_loop_scope; a module or class override becomes "
        "loop_scope on the asyncio marker and on the async fixtures defined beside it",
        MIGRATE_021,
        "1.0.0",
    ),
    _r(
        "event-loop-override-custom",
        "`event_loop` override that cannot be translated",
        Action.HUMAN,
        "this custom event_loop override is ignored by pytest-asyncio >=1.0 (tests and fixtures then silently run "
        "in different loops); port it to loop_scope markers/config defaults, and a custom loop to "
        "pytest_asyncio_loop_factories (pytest-asyncio >=1.4) or an event_loop_policy fixture (1.3)",
        MIGRATE_021,
        "1.0.0",
    ),
    _r(
        "event-loop-policy",
        "`event_loop_policy` fixture override (deprecated in 1.4)",
        Action.HUMAN,
        "overriding event_loop_policy warns from pytest-asyncio 1.4 (an error under filterwarnings=error); use the "
        "pytest_asyncio_loop_factories(config, item) hook once pinned to >=1.4 (the hook name is rejected by 1.3)",
        CHANGELOG,
        "1.4.0",
    ),
    _r(
        "marker-scope",
        "`scope=` on the asyncio marker",
        Action.AUTO,
        "renamed to loop_scope= (scope= is deprecated and an error under filterwarnings=error)",
        MIGRATE_023,
        "0.24",
    ),
    _r(
        "fixture-loop-scope",
        "wider-scoped async fixture without loop_scope",
        Action.AUTO,
        "loop_scope=<scope> is added (pytest_asyncio.fixture, since pytest.fixture has no loop_scope); without it "
        "the fixture fails with ScopeMismatch once asyncio_default_fixture_loop_scope is function",
        MIGRATE_023,
        "0.24",
    ),
    _r(
        "fixture-loop-scope-dynamic",
        "async fixture with a non-literal scope",
        Action.HUMAN,
        "cannot infer loop_scope for a dynamically scoped async fixture; set loop_scope explicitly",
        MIGRATE_023,
        "0.24",
    ),
    _r(
        "default-loop-scope",
        "asyncio_default_fixture_loop_scope unset",
        Action.AUTO,
        "asyncio_default_fixture_loop_scope is written to the active pytest config (unset it warns, and pytest "
        ">=9.2 with filterwarnings=error stops with INTERNALERROR)",
        CONFIG,
        "0.24",
    ),
    _r(
        "asyncio-mode",
        "asyncio_mode set in the pytest config",
        Action.INFO,
        "kept as it is: strict is the default, so removing auto makes unmarked async tests fail",
        CONFIG,
        "0.19",
    ),
    _r(
        "strict-async-fixture",
        "`@pytest.fixture` on an async function in strict mode",
        Action.AUTO,
        "becomes @pytest_asyncio.fixture (pytest >=9 errors on an unhandled async fixture)",
        CONFIG,
        "0.25",
    ),
    _r(
        "strict-async-fixture-other-plugin",
        "async fixture in a service that also uses anyio/trio",
        Action.HUMAN,
        "the async fixture may belong to anyio/trio; mark it @pytest_asyncio.fixture if pytest-asyncio should run "
        "it",
        CONFIG,
        "0.25",
    ),
    _r(
        "unmarked-async-test",
        "async test without an asyncio marker in strict mode",
        Action.AUTO,
        "@pytest.mark.asyncio is added (pytest 8.3 skipped such a test; pytest >=8.4 fails it)",
        CONCEPTS,
        "0.19",
    ),
    _r(
        "marker-hook",
        "conftest hook that adds asyncio markers",
        Action.INFO,
        "tests may be marked by a pytest_collection_modifyitems hook; no markers are added in this service",
        MIGRATE_023,
        "0.23",
    ),
    _r(
        "mark-on-fixture",
        "a mark applied to a fixture",
        Action.AUTO,
        "@pytest.mark.asyncio on a fixture is deleted (it never had an effect; pytest >=9 fails collection)",
        CHANGELOG,
        "9.0",
    ),
    _r(
        "get-event-loop",
        "asyncio.get_event_loop() inside a coroutine",
        Action.AUTO,
        "replaced by asyncio.get_running_loop()",
        FIXTURES,
        "1.4.0",
    ),
    _r(
        "get-event-loop-sync",
        "asyncio.get_event_loop() in sync code",
        Action.HUMAN,
        "sync call to asyncio.get_event_loop(): fails with pytest-asyncio >=1.4 after any async test, and on Python "
        ">=3.14; use asyncio.run()/asyncio.Runner, an async fixture, or @pytest_asyncio.fixture",
        CHANGELOG,
        "1.4.0",
    ),
    _r(
        "loop-scope-mismatch",
        "tests widened to a shared loop use fixtures from elsewhere",
        Action.INFO,
        "tests here run in a wider loop but async fixtures from conftest default to a function loop; objects bound "
        "to a loop (futures, locks, clients) will break — give those fixtures the same loop_scope",
        CONCEPTS,
        "1.0.0",
    ),
)


# ---- service survey -----------------------------------------------------------------------------


@dataclass
class Override:
    """A user-defined `event_loop` fixture and what becomes of it."""

    path: str
    line: int
    cls: str  # enclosing class name, "" at module level
    func: str
    scope: str | None  # None when not a literal
    plain: bool
    where: str  # "root-conftest", "conftest", "module", "class", "other"
    action: str = "finding"  # "delete" or "finding"
    loop: str | None = None  # loop scope given to the tests it served


@dataclass
class Survey:
    """What the whole service looks like before its files are rewritten."""

    root: str
    cfg: pc.PytestConfig | None
    mode: str
    other_plugin: bool
    hook_marks: bool
    overrides: dict[tuple[str, str, str], Override] = field(default_factory=dict)
    root_loop: str | None = None
    kept_override: Override | None = None


def _is_fixture_ast(fn: ast.FunctionDef | ast.AsyncFunctionDef, imports: Imports) -> ast.Call | bool | None:
    """The fixture decorator's Call, True for a bare fixture decorator, None when not a fixture."""
    for func, call in decorator_calls(fn):
        if imports.qualname(func) in pc.FIXTURE_NAMES:
            return call if call is not None else True
    return None


def _str_kw(call: ast.Call | bool | None, name: str) -> tuple[bool, str | None]:
    """(present, literal value or None) of a keyword of a fixture/marker call."""
    if not isinstance(call, ast.Call):
        return False, None
    kw = keyword(call, name)
    if kw is None:
        return False, None
    if isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
        return True, kw.value.value
    return True, None


_LOOP_FACTORIES = {"asyncio.new_event_loop", "asyncio.get_event_loop", "asyncio.get_event_loop_policy"}


def _plain_loop_body(fn: ast.FunctionDef | ast.AsyncFunctionDef, imports: Imports) -> bool:
    """True when an event_loop fixture only creates a default asyncio loop, yields it and closes it."""
    if isinstance(fn, ast.AsyncFunctionDef):
        return False
    params = [a.arg for a in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]]
    if any(p not in ("request", "self", "cls") for p in params) or fn.args.vararg or fn.args.kwarg:
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


def _parse(text: str) -> ast.Module | None:
    try:
        return ast.parse(text)
    except SyntaxError:
        return None


def _defs(tree: ast.Module) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Module-level and class-level function definitions with the enclosing class name."""
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield "", node
        elif isinstance(node, ast.ClassDef):
            for sub in node.body:
                if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    yield node.name, sub


def survey(ctx: RewriteContext, root: str | None = None) -> Survey:
    """Look across a service: its active config and mode, event_loop overrides, other async plugins."""
    root = ctx.service.path if root is None else root
    files = ctx.files
    cfg = pc.active(files, root)
    py = {p: t for p, t in files.items() if p.endswith(".py")}
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
    s = Survey(root, cfg, pc.asyncio_mode(cfg), other, hook)
    tests = [p for p in py if pc.is_test_module(p)]
    for path, text in py.items():
        if "event_loop" not in text:
            continue
        tree = _parse(text)
        if tree is None:
            continue
        imports = Imports(tree)
        kind = file_kind(path)
        for cls, fn in _defs(tree):
            deco = _is_fixture_ast(fn, imports)
            if deco is None:
                continue
            named, name = _str_kw(deco, "name")
            if (name if named else fn.name) != "event_loop":
                continue
            has_scope, scope = _str_kw(deco, "scope")
            scope = scope if has_scope else "function"
            if kind == "conftest":
                folder = path.rsplit("/", 1)[0] + "/" if "/" in path else ""
                where = "root-conftest" if all(t.startswith(folder) for t in tests) else "conftest"
            elif kind == "test" and pc.is_test_module(path):
                where = "class" if cls else "module"
            else:
                where = "other"
            ov = Override(path, fn.lineno, cls, fn.name, scope, _plain_loop_body(fn, imports), where)
            if ov.plain and scope == "function" and where != "other":
                ov.action = "delete"
            elif ov.plain and where == "root-conftest" and scope in ("module", "session"):
                ov.action, ov.loop = "delete", scope
            elif ov.plain and where == "module" and scope in ("module", "package", "session"):
                ov.action, ov.loop = "delete", "module"
            elif ov.plain and where == "class" and scope in WIDE:
                ov.action, ov.loop = "delete", "class"
            s.overrides[(path, cls, fn.name)] = ov
    for ov in s.overrides.values():
        if ov.action == "delete" and ov.where == "root-conftest" and ov.loop:
            if s.root_loop is None or RANK[ov.loop] > RANK[s.root_loop]:
                s.root_loop = ov.loop
        if ov.action == "finding":
            s.kept_override = ov
    return s


# ---- the per-file rewriter ----------------------------------------------------------------------


def _fixture_info(fn: cst.FunctionDef, imports: pc.ImportMap) -> tuple[int, str, cst.Call | None] | None:
    return pc.fixture_decorator(fn, imports)


def _param_names(fn: cst.FunctionDef) -> list[str]:
    p = fn.params
    return [x.name.value for x in [*p.posonly_params, *p.params, *p.kwonly_params]]


def _drop_param(fn: cst.FunctionDef, name: str) -> cst.FunctionDef:
    params = fn.params
    for attr in ("params", "posonly_params", "kwonly_params"):
        seq = list(getattr(params, attr))
        for i, p in enumerate(seq):
            if p.name.value == name:
                del seq[i]
                if i == len(seq) and seq:  # it was the last one: the new last takes its comma style
                    seq[-1] = seq[-1].with_changes(comma=p.comma)
                return fn.with_changes(params=params.with_changes(**{attr: seq}))
    return fn


class _Names(cst.CSTVisitor):
    """Every `Name(event_loop)` load in a function body, split by how it is used and whether it is nested."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.depth = 0
        self.total = 0
        self.attr_uses = 0  # `event_loop.x` at function level
        self.run_calls = 0  # `event_loop.run_until_complete(E)` at function level, one positional argument
        self.nested = 0
        self.attrs: set[str] = set()
        self.loop_calls = 0  # other loop helpers in the body (get_event_loop, new_event_loop, ...)

    def _enter(self, node: cst.CSTNode) -> bool:
        self.depth += 1
        return True

    def _leave(self, node: cst.CSTNode) -> None:
        self.depth -= 1

    visit_FunctionDef = visit_Lambda = visit_ClassDef = _enter  # type: ignore[assignment]
    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _enter  # type: ignore[assignment]
    leave_FunctionDef = leave_Lambda = leave_ClassDef = _leave  # type: ignore[assignment]
    leave_ListComp = leave_SetComp = leave_DictComp = leave_GeneratorExp = _leave  # type: ignore[assignment]

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == self.name:
            self.total += 1
            if self.depth:
                self.nested += 1

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if isinstance(node.value, cst.Name) and node.value.value == self.name and not self.depth:
            self.attr_uses += 1
            self.attrs.add(node.attr.value)
        elif (
            isinstance(node.value, cst.Name)
            and node.value.value == "asyncio"
            and node.attr.value
            in (
                "get_event_loop",
                "new_event_loop",
                "set_event_loop",
                "get_event_loop_policy",
            )
        ):
            self.loop_calls += 1

    def visit_Call(self, node: cst.Call) -> None:
        f = node.func
        if (
            not self.depth
            and isinstance(f, cst.Attribute)
            and isinstance(f.value, cst.Name)
            and f.value.value == self.name
            and f.attr.value == "run_until_complete"
            and len(node.args) == 1
            and node.args[0].keyword is None
            and not node.args[0].star
        ):
            self.run_calls += 1


class _ToAwait(cst.CSTTransformer):
    """`event_loop.run_until_complete(E)` -> `await E` (parenthesised unless it is a whole statement value)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.ours: set[int] = set()

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        f = updated.func
        if (
            isinstance(f, cst.Attribute)
            and isinstance(f.value, cst.Name)
            and f.value.value == self.name
            and f.attr.value == "run_until_complete"
        ):
            node = cst.Await(
                expression=updated.args[0].value,
                lpar=[cst.LeftParen(), *updated.lpar],
                rpar=[*updated.rpar, cst.RightParen()],
            )
            self.ours.add(id(node))
            return node
        return updated

    def _bare(self, value: cst.BaseExpression | None) -> cst.BaseExpression | None:
        if isinstance(value, cst.Await) and id(value) in self.ours:
            return value.with_changes(lpar=value.lpar[1:], rpar=value.rpar[:-1])
        return value

    def leave_Expr(self, original: cst.Expr, updated: cst.Expr) -> cst.Expr:
        return updated.with_changes(value=self._bare(updated.value))

    def leave_Assign(self, original: cst.Assign, updated: cst.Assign) -> cst.Assign:
        return updated.with_changes(value=self._bare(updated.value))

    def leave_AnnAssign(self, original: cst.AnnAssign, updated: cst.AnnAssign) -> cst.AnnAssign:
        return updated.with_changes(value=self._bare(updated.value))

    def leave_AugAssign(self, original: cst.AugAssign, updated: cst.AugAssign) -> cst.AugAssign:
        return updated.with_changes(value=self._bare(updated.value))

    def leave_Return(self, original: cst.Return, updated: cst.Return) -> cst.Return:
        return updated.with_changes(value=self._bare(updated.value))


class _LoopAttr(cst.CSTTransformer):
    """`event_loop.x` -> `asyncio.get_running_loop().x` (function level only)."""

    def __init__(self, name: str, asyncio_name: str) -> None:
        self.name = name
        self.asyncio = asyncio_name

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.Attribute:
        if isinstance(updated.value, cst.Name) and updated.value.value == self.name:
            running = cst.Call(cst.Attribute(cst.Name(self.asyncio), cst.Name("get_running_loop")))
            return updated.with_changes(value=running)
        return updated


def _insert_first(fn: cst.FunctionDef, stmt: cst.BaseStatement) -> cst.FunctionDef:
    body = fn.body
    if not isinstance(body, cst.IndentedBlock):
        body = cst.IndentedBlock(body=[cst.SimpleStatementLine(body=list(body.body))])
    stmts = list(body.body)
    at = 0
    if stmts and isinstance(stmts[0], cst.SimpleStatementLine) and isinstance(stmts[0].body[0], cst.Expr):
        if isinstance(stmts[0].body[0].value, (cst.SimpleString, cst.ConcatenatedString)):
            at = 1
    stmts.insert(at, stmt)
    return fn.with_changes(body=body.with_changes(body=stmts))


def _marker_dec(imports: pc.ImportMap, dec: cst.Decorator) -> bool:
    func, _ = pc.callee(dec)
    return imports.qualname(func) == MARK


def _has_mark(exprs: Iterable[cst.BaseExpression], imports: pc.ImportMap, names: Sequence[str]) -> bool:
    for e in exprs:
        func, _ = pc.callee(e)
        q = imports.qualname(func)
        if q and any(q == n or q.startswith(n + ".") for n in names):
            return True
    return False


def _pytestmark_exprs(body: Sequence[cst.CSTNode]) -> list[cst.BaseExpression]:
    out: list[cst.BaseExpression] = []
    for stmt in body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if (
                isinstance(small, cst.Assign)
                and len(small.targets) == 1
                and isinstance(small.targets[0].target, cst.Name)
                and small.targets[0].target.value == "pytestmark"
            ):
                v = small.value
                out.extend(e.value for e in v.elements) if isinstance(
                    v, (cst.List, cst.Tuple)
                ) else out.append(v)
    return out


OTHER_MARKS = ("pytest.mark.anyio", "pytest.mark.trio")


@dataclass
class _ClassCtx:
    node: cst.ClassDef
    is_test: bool
    marked: bool
    loop: str | None  # loop scope of a deleted class-level event_loop override
    has_sync_tests: bool


class FileRewriter(cst.CSTTransformer):
    """Rewrites one Python file of a service, given the service survey."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, recipe: PytestAsyncioRecipe, path: str, kind: FileKind, s: Survey) -> None:
        super().__init__()
        self.recipe, self.path, self.kind, self.s = recipe, path, kind, s
        self.test_module = pc.is_test_module(path) and kind == "test"
        self.findings: list[Finding] = []
        self.imports_needed: set[str] = set()
        self.deleted = False
        self.classes: list[_ClassCtx] = []
        self.funcs: list[bool] = []  # async flag of each enclosing function/lambda
        self.module_loop: str | None = None
        self.module_marked = False
        self.module_sync_tests = False
        self.newly_marked: list[str] = []
        self.imports = pc.ImportMap(cst.Module([]))
        self.asyncio_name = "asyncio"
        self.current_line = 0

    # -- helpers --

    def _line(self, node: cst.CSTNode) -> int:
        try:
            return self.get_metadata(PositionProvider, node).start.line
        except KeyError:
            return 0

    def _find(
        self, node: cst.CSTNode | int, rule: str, message: str = "", severity: Severity | None = None
    ) -> None:
        line = node if isinstance(node, int) else self._line(node)
        self.findings.append(
            self.recipe.finding(self.path, line or self.current_line, rule, message, severity)
        )

    def _mark(
        self, loop: str | None = None, quote_like: cst.BaseExpression | None = None
    ) -> cst.BaseExpression:
        self.imports_needed.add("pytest")
        self.imports.names.setdefault("pytest", "pytest")
        base = cst.Attribute(cst.Attribute(cst.Name("pytest"), cst.Name("mark")), cst.Name("asyncio"))
        if loop is None:
            return base
        return pc.with_kwarg(cst.Call(base), "loop_scope", pc.string_like(quote_like, loop))

    def _pa_fixture(self) -> cst.Attribute:
        self.imports_needed.add("pytest_asyncio")
        self.imports.names.setdefault("pytest_asyncio", "pytest_asyncio")
        return cst.Attribute(cst.Name("pytest_asyncio"), cst.Name("fixture"))

    def _is_sync_test(self, fn: cst.FunctionDef, in_class: bool) -> bool:
        return fn.asynchronous is None and fn.name.value.startswith("test") and self.test_module

    # -- module --

    def visit_Module(self, node: cst.Module) -> None:
        self.imports = pc.ImportMap(node)
        for local, full in self.imports.names.items():
            if full == "asyncio":
                self.asyncio_name = local
                break
        self.module_marked = _has_mark(_pytestmark_exprs(node.body), self.imports, (MARK,))
        for (path, cls, _), ov in self.s.overrides.items():
            if path == self.path and not cls and ov.action == "delete" and ov.loop == "module":
                self.module_loop = "module"
        for stmt in node.body:
            if (
                isinstance(stmt, cst.FunctionDef)
                and stmt.asynchronous is None
                and stmt.name.value.startswith("test")
            ):
                self.module_sync_tests = True
            if isinstance(stmt, cst.ClassDef) and stmt.name.value.startswith("Test"):
                for sub in stmt.body.body:
                    if (
                        isinstance(sub, cst.FunctionDef)
                        and sub.asynchronous is None
                        and sub.name.value.startswith("test")
                    ):
                        self.module_sync_tests = True

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        if self.module_loop and self.test_module and not self.module_sync_tests:
            updated = self._module_marker(updated, self.module_loop)
        if self.newly_marked:
            self._find(
                1,
                "unmarked-async-test",
                f"{len(self.newly_marked)} async test(s) had no asyncio marker in strict mode "
                f"({', '.join(self.newly_marked[:5])}{'...' if len(self.newly_marked) > 5 else ''}); pytest 8.3 "
                "skipped them, so they now run for the first time: check they pass",
                Severity.ADVICE,
            )
        return updated

    def _module_marker(self, module: cst.Module, loop: str) -> cst.Module:
        body = list(module.body)
        for i, stmt in enumerate(body):
            if not isinstance(stmt, cst.SimpleStatementLine):
                continue
            for j, small in enumerate(stmt.body):
                if not (
                    isinstance(small, cst.Assign)
                    and isinstance(small.targets[0].target, cst.Name)
                    and small.targets[0].target.value == "pytestmark"
                ):
                    continue
                value = small.value
                if isinstance(value, (cst.List, cst.Tuple)):
                    elems = list(value.elements)
                    for k, el in enumerate(elems):
                        if _has_mark([el.value], self.imports, (MARK,)):
                            elems[k] = el.with_changes(value=self._scoped(el.value, loop))
                            break
                    else:
                        last = elems[-1] if elems else None
                        new = cst.Element(self._mark(loop))
                        if last is not None and not isinstance(last.comma, cst.Comma):
                            elems[-1] = last.with_changes(
                                comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
                            )
                        elems.append(new)
                    value = value.with_changes(elements=elems)
                elif _has_mark([value], self.imports, (MARK,)):
                    value = self._scoped(value, loop)
                else:
                    value = cst.List(
                        [
                            cst.Element(value, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
                            cst.Element(self._mark(loop)),
                        ]
                    )
                new_stmt = stmt.with_changes(
                    body=[*stmt.body[:j], small.with_changes(value=value), *stmt.body[j + 1 :]]
                )
                body[i] = new_stmt
                return module.with_changes(body=body)
        # no pytestmark yet: add one after the imports
        at = 0
        for i, stmt in enumerate(body):
            if isinstance(stmt, cst.SimpleStatementLine) and all(
                isinstance(s, (cst.Import, cst.ImportFrom)) for s in stmt.body
            ):
                at = i + 1
            elif i == 0 and isinstance(stmt, cst.SimpleStatementLine) and isinstance(stmt.body[0], cst.Expr):
                at = 1
        line = cst.SimpleStatementLine(
            [cst.Assign([cst.AssignTarget(cst.Name("pytestmark"))], self._mark(loop))],
            leading_lines=[cst.EmptyLine()] if at else [],
        )
        body.insert(at, line)
        if at < len(body) - 1 and not body[at + 1].leading_lines:
            body[at + 1] = body[at + 1].with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()])
        return module.with_changes(body=body)

    def _scoped(self, expr: cst.BaseExpression, loop: str) -> cst.BaseExpression:
        """An asyncio marker expression with loop_scope=loop (bare markers become calls)."""
        func, call = pc.callee(expr)
        if call is None:
            return pc.with_kwarg(cst.Call(func), "loop_scope", pc.string_like(None, loop))
        have = pc.kwarg(call, "loop_scope")
        if have is not None:
            if pc.string_value(have.value) != loop:
                self._find(
                    call,
                    "event-loop-override",
                    f"this asyncio marker sets loop_scope but the deleted event_loop override shared a {loop} "
                    f"loop; check which loop this test needs",
                    Severity.HUMAN,
                )
            return expr
        return pc.with_kwarg(call, "loop_scope", pc.string_like(None, loop))

    # -- classes --

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        exprs = [d.decorator for d in node.decorators] + _pytestmark_exprs(node.body.body)
        loop = None
        ov = self.s.overrides.get((self.path, node.name.value, "event_loop"))
        for (path, cls, _), o in self.s.overrides.items():
            if path == self.path and cls == node.name.value and o.action == "delete" and o.loop == "class":
                loop = "class"
        del ov
        sync_tests = any(
            isinstance(sub, cst.FunctionDef)
            and sub.asynchronous is None
            and sub.name.value.startswith("test")
            for sub in node.body.body
        )
        self.classes.append(
            _ClassCtx(
                node,
                node.name.value.startswith("Test"),
                _has_mark(exprs, self.imports, (MARK,)),
                loop,
                sync_tests,
            )
        )

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        ctx = self.classes.pop()
        if ctx.loop and not ctx.has_sync_tests:
            decs = list(updated.decorators)
            for i, d in enumerate(decs):
                if _marker_dec(self.imports, d):
                    decs[i] = d.with_changes(decorator=self._scoped(d.decorator, ctx.loop))
                    break
            else:
                decs.insert(0, cst.Decorator(self._mark(ctx.loop)))
            updated = updated.with_changes(decorators=decs)
        elif ctx.marked and (self.module_loop and not self.module_sync_tests):
            decs = [
                d.with_changes(decorator=self._scoped(d.decorator, self.module_loop))
                if _marker_dec(self.imports, d)
                else d
                for d in updated.decorators
            ]
            updated = updated.with_changes(decorators=decs)
        body = updated.body
        if isinstance(body, cst.IndentedBlock) and body.body and len(body.body) < len(original.body.body):
            first = body.body[0]
            if first.leading_lines and all(line.comment is None for line in first.leading_lines):
                first = first.with_changes(leading_lines=[])
                updated = updated.with_changes(body=body.with_changes(body=[first, *body.body[1:]]))
        if isinstance(updated.body, cst.IndentedBlock) and not updated.body.body:
            updated = updated.with_changes(
                body=updated.body.with_changes(body=[cst.SimpleStatementLine([cst.Pass()])])
            )
        return updated

    # -- functions --

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.funcs.append(node.asynchronous is not None)

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.funcs.append(False)

    def leave_Lambda(self, original: cst.Lambda, updated: cst.Lambda) -> cst.Lambda:
        self.funcs.pop()
        return updated

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        q = self.imports.qualname(updated.func)
        if q == MARK:
            scope = pc.kwarg(updated, "scope")
            if scope is not None:
                if pc.kwarg(updated, "loop_scope") is not None:
                    self._find(
                        original,
                        "marker-scope",
                        "the asyncio marker has both scope= and loop_scope= (a "
                        "UsageError); keep only loop_scope=",
                        Severity.HUMAN,
                    )
                    return updated
                args = [
                    a.with_changes(keyword=cst.Name("loop_scope")) if a is scope else a for a in updated.args
                ]
                return updated.with_changes(args=args)
        elif (
            isinstance(updated.func, cst.Attribute)
            and updated.func.attr.value == "getfixturevalue"
            and updated.args
            and pc.string_value(updated.args[0].value) == "event_loop"
        ):
            self._find(original, "event-loop-request")
        elif q == "asyncio.get_event_loop" and not updated.args:
            if self.funcs and self.funcs[-1]:
                func = updated.func
                if isinstance(func, cst.Attribute):
                    return updated.with_changes(func=func.with_changes(attr=cst.Name("get_running_loop")))
                self.imports_needed.add("asyncio")
                return updated.with_changes(
                    func=cst.Attribute(cst.Name(self.asyncio_name), cst.Name("get_running_loop"))
                )
            self._find(original, "get-event-loop-sync")
        return updated

    def leave_FunctionDef(
        self, original: cst.FunctionDef, updated: cst.FunctionDef
    ) -> cst.FunctionDef | cst.RemovalSentinel:
        self.funcs.pop()
        if len(self.funcs) > 0:  # nested functions are never tests or fixtures
            return updated
        self.current_line = self._line(original)
        in_class = bool(self.classes)
        if in_class and len(self.classes) > 1:
            return updated
        cls = self.classes[-1] if in_class else None
        fix = _fixture_info(updated, self.imports)
        name = updated.name.value
        if fix is not None:
            call = fix[2]
            named = pc.string_value(pc.kwarg(call, "name").value) if pc.kwarg(call, "name") else None
            fixture_name = named or name
            # PA-10: marks on fixtures
            decs = list(updated.decorators)
            kept = []
            for d in decs:
                func, _ = pc.callee(d)
                dq = self.imports.qualname(func) or ""
                if dq == MARK:
                    continue
                kept.append(d)
            if len(kept) != len(decs):
                updated = updated.with_changes(decorators=kept)
            # PA-2: event_loop overrides
            if fixture_name == "event_loop":
                ov = self.s.overrides.get((self.path, cls.node.name.value if cls else "", name))
                if ov is not None and ov.action == "delete":
                    self.deleted = True
                    return cst.RemoveFromParent()
                self._find(original, "event-loop-override-custom", self._override_message(ov))
                return updated
            # PA-3: event_loop_policy overrides
            if fixture_name == "event_loop_policy":
                if self._default_policy(updated):
                    self.deleted = True
                    return cst.RemoveFromParent()
                self._find(original, "event-loop-policy")
                return updated
        is_test = (
            self.test_module and name.startswith("test") and fix is None and (cls is None or cls.is_test)
        )
        # PA-1: event_loop requests
        if "event_loop" in _param_names(updated) and (is_test or fix is not None):
            updated = self._event_loop_param(original, updated, is_test, fix is not None)
            fix = _fixture_info(updated, self.imports)
        for d in updated.decorators:
            func, call = pc.callee(d)
            if self.imports.qualname(func) == "pytest.mark.usefixtures" and call is not None:
                if any(pc.string_value(a.value) == "event_loop" for a in call.args):
                    self._find(d, "event-loop-request")
        if fix is not None and updated.asynchronous is not None:
            updated = self._async_fixture(original, updated, cls)
        elif fix is not None and fix[1] == "pytest_asyncio.fixture":
            updated = self._async_fixture(original, updated, cls)
        if is_test and updated.asynchronous is not None:
            updated = self._async_test(original, updated, cls)
        return updated

    def _override_message(self, ov: Override | None) -> str:
        if ov is None:
            return self.recipe.rule("event-loop-override-custom").fix
        if not ov.plain:
            why = "its body does more than create, yield and close a default asyncio loop"
        elif ov.where == "conftest":
            why = (
                f"it is a {ov.scope}-scoped override in a conftest.py below the service root (package level)"
            )
        elif ov.where == "other":
            why = "it is defined outside conftest.py and test modules"
        else:
            why = f"its scope ({ov.scope}) at this place has no direct loop_scope equivalent"
        return (
            f"custom event_loop override is ignored by pytest-asyncio >=1.0 ({why}); port it to loop_scope "
            "(markers on every test module it served, or the asyncio_default_*_loop_scope config keys) and a "
            "custom loop to pytest_asyncio_loop_factories (>=1.4)"
        )

    def _default_policy(self, fn: cst.FunctionDef) -> bool:
        if _param_names(fn) or not isinstance(fn.body, cst.IndentedBlock):
            return False
        stmts = [
            s
            for s in fn.body.body
            if not (
                isinstance(s, cst.SimpleStatementLine)
                and isinstance(s.body[0], cst.Expr)
                and isinstance(s.body[0].value, cst.SimpleString)
            )
        ]
        if len(stmts) != 1 or not isinstance(stmts[0], cst.SimpleStatementLine):
            return False
        ret = stmts[0].body[0]
        return (
            isinstance(ret, cst.Return)
            and isinstance(ret.value, cst.Call)
            and not ret.value.args
            and self.imports.qualname(ret.value.func) == "asyncio.DefaultEventLoopPolicy"
        )

    def _event_loop_param(
        self, original: cst.FunctionDef, fn: cst.FunctionDef, is_test: bool, is_fixture: bool
    ) -> cst.FunctionDef:
        what = "test" if is_test else "fixture"
        if self.s.kept_override is not None:
            ov = self.s.kept_override
            self._find(
                original,
                "event-loop-fixture",
                f"{what} {fn.name.value} requests event_loop, which resolves to the custom override at "
                f"{ov.path}:{ov.line} that is left for a human; migrate both together",
                Severity.HUMAN,
            )
            return fn
        names = _Names("event_loop")
        fn.body.visit(names)
        if fn.asynchronous is not None:
            bad = names.attrs & {"run_until_complete", "run_forever", "close", "stop"}
            if bad:
                self._find(
                    original,
                    "event-loop-fixture",
                    f"async {what} {fn.name.value} calls event_loop.{sorted(bad)[0]}(), which cannot run inside the "
                    "running loop; pytest-asyncio >=1.0 removed the event_loop fixture: rewrite it with await",
                    Severity.HUMAN,
                )
                return fn
            self.imports_needed.add("asyncio")
            fn = _drop_param(fn, "event_loop")
            if names.total and names.total == names.attr_uses and not names.nested:
                return fn.with_changes(body=fn.body.visit(_LoopAttr("event_loop", self.asyncio_name)))
            if names.total:
                assign = cst.parse_statement(f"event_loop = {self.asyncio_name}.get_running_loop()\n")
                return _insert_first(fn, assign)
            return fn
        # sync test/fixture: only `event_loop.run_until_complete(E)` can be turned into `await E`
        if names.total == 0:
            return _drop_param(fn, "event_loop")
        if names.total != names.run_calls or names.nested or names.loop_calls:
            self._find(
                original,
                "event-loop-fixture",
                f"pytest-asyncio >=1.0 removed the event_loop fixture; convert {what} {fn.name.value} to an async "
                f"{what} and use asyncio.get_running_loop() (see migrate_from_0_21)",
                Severity.HUMAN,
            )
            return fn
        tr = _ToAwait("event_loop")
        body = fn.body.visit(tr)
        fn = _drop_param(fn, "event_loop").with_changes(
            body=body, asynchronous=cst.Asynchronous(whitespace_after=cst.SimpleWhitespace(" "))
        )
        if is_fixture and self.s.mode == "strict":
            fix = _fixture_info(fn, self.imports)
            if fix is not None and fix[1] != "pytest_asyncio.fixture":
                fn = self._to_pa_fixture(fn, fix)
        return fn

    def _to_pa_fixture(self, fn: cst.FunctionDef, fix: tuple[int, str, cst.Call | None]) -> cst.FunctionDef:
        idx, _, call = fix
        decs = list(fn.decorators)
        new = call.with_changes(func=self._pa_fixture()) if call is not None else self._pa_fixture()
        decs[idx] = decs[idx].with_changes(decorator=new)
        return fn.with_changes(decorators=decs)

    def _async_fixture(
        self, original: cst.FunctionDef, fn: cst.FunctionDef, cls: _ClassCtx | None
    ) -> cst.FunctionDef:
        fix = _fixture_info(fn, self.imports)
        if fix is None:
            return fn
        idx, qual, call = fix
        # PA-8: strict mode
        if qual != "pytest_asyncio.fixture" and fn.asynchronous is not None and self.s.mode == "strict":
            if self.s.other_plugin:
                self._find(original, "strict-async-fixture-other-plugin")
                return fn
            fn = self._to_pa_fixture(fn, fix)
            fix = _fixture_info(fn, self.imports)
            assert fix is not None
            idx, qual, call = fix
        # PA-5: loop_scope for wider-scoped fixtures
        if pc.kwarg(call, "loop_scope") is not None:
            return fn
        container = (cls.loop if cls else None) or self.module_loop
        scope_arg = pc.kwarg(call, "scope")
        if scope_arg is None:
            scope = "function"
        else:
            scope = pc.string_value(scope_arg.value)
            if scope is None or scope not in RANK:
                self._find(original, "fixture-loop-scope-dynamic")
                return fn
        loop = None
        if container and RANK[container] >= RANK[scope]:
            loop = container
        elif scope in WIDE:
            loop = scope
            if self.s.root_loop and RANK[self.s.root_loop] >= RANK[scope]:
                loop = self.s.root_loop
        if loop is None:
            return fn
        if qual != "pytest_asyncio.fixture":
            if self.s.other_plugin:
                self._find(original, "strict-async-fixture-other-plugin")
                return fn
            fn = self._to_pa_fixture(fn, fix)
            idx, qual, call = _fixture_info(fn, self.imports)  # type: ignore[misc]
        decs = list(fn.decorators)
        base = call if call is not None else cst.Call(decs[idx].decorator)
        quote = scope_arg.value if scope_arg is not None else None
        decs[idx] = decs[idx].with_changes(
            decorator=pc.with_kwarg(base, "loop_scope", pc.string_like(quote, loop))
        )
        return fn.with_changes(decorators=decs)

    def _async_test(
        self, original: cst.FunctionDef, fn: cst.FunctionDef, cls: _ClassCtx | None
    ) -> cst.FunctionDef:
        decs = list(fn.decorators)
        exprs = [d.decorator for d in decs]
        if _has_mark(exprs, self.imports, OTHER_MARKS):
            return fn
        container = cls.loop if cls and cls.loop else self.module_loop
        container_has_sync = cls.has_sync_tests if cls and cls.loop else self.module_sync_tests
        own = [i for i, d in enumerate(decs) if _marker_dec(self.imports, d)]
        if container:
            if own:
                decs[own[0]] = decs[own[0]].with_changes(
                    decorator=self._scoped(decs[own[0]].decorator, container)
                )
                return fn.with_changes(decorators=decs)
            if container_has_sync:
                decs.insert(0, cst.Decorator(self._mark(container)))
                return fn.with_changes(decorators=decs)
            return fn  # the module pytestmark / class marker carries the loop scope
        if own or self.s.mode != "strict":
            return fn
        if self.module_marked or any(c.marked for c in self.classes):
            return fn
        if self.s.hook_marks:
            return fn
        if self.s.other_plugin:
            self._find(
                original,
                "unmarked-async-test",
                "async test without an asyncio marker in a service that "
                "also uses anyio/trio: add @pytest.mark.asyncio if pytest-asyncio should run it",
                Severity.HUMAN,
            )
            return fn
        if original.asynchronous is not None:  # not one just converted from a sync test
            self.newly_marked.append(fn.name.value)
        decs.insert(0, cst.Decorator(self._mark()))
        return fn.with_changes(decorators=decs)


# ---- recipe -------------------------------------------------------------------------------------


PA_VERSIONS = (
    "0.17.2", "0.18.3", "0.19.0", "0.20.3", "0.21.0", "0.21.1", "0.21.2", "0.22.0", "0.23.0", "0.23.2", "0.23.5",
    "0.23.6", "0.23.7", "0.23.8", "0.24.0", "0.25.0", "0.25.3", "0.26.0", "1.0.0", "1.1.0", "1.1.1", "1.2.0",
    "1.3.0", "1.4.0", "1.4.1", "1.4.1.post1", "1.5.0",
)  # fmt: skip


PYTEST_VERSIONS = (
    "7.0.1", "7.4.4", "8.0.2", "8.1.2", "8.2.0", "8.2.2", "8.3.0", "8.3.5", "8.4.0", "8.4.2", "9.0.0", "9.0.2",
    "9.0.3", "9.1.0", "9.1.1", "9.2.0",
)  # fmt: skip


def excludes(spec: str, minimum: str, versions: Sequence[str]) -> bool:
    """Whether a pin admits none of the known releases at or above `minimum` (so it must move)."""
    if not spec:
        return False
    try:
        pinned = SpecifierSet(spec)
    except InvalidSpecifier:
        return False
    newer = [v for v in versions if Version(v) >= Version(minimum)]
    return not any(pinned.contains(v, prereleases=True) for v in newer)


class PytestAsyncioRecipe(Recipe):
    """pytest-asyncio 0.21/0.23 -> 1.x."""

    id = "pytest-asyncio"
    title = "pytest-asyncio 0.21/0.23 -> 1.x"
    package = "pytest-asyncio"
    migrates_from = "<1.0"
    migrates_to = ">=1.3.0,<2"
    known_versions = PA_VERSIONS
    tokens = (b"event_loop", b"asyncio", b"async def", b"pytest_asyncio")
    config_tokens = (b"asyncio",)
    rules = RULES
    requires: ClassVar[Mapping[str, str]] = {"pytest": ">=8.2"}
    order = 10
    docs = f"{MIGRATE_021} {MIGRATE_023} {CHANGELOG}"

    # -- pins --

    def pin_changes(self, ctx: RewriteContext, pinned: Mapping[str, str]) -> list[PinChange]:
        """The pytest-asyncio pin moves to the target; pytest moves only when its pin excludes >=8.2."""
        target = ctx.targets.get(self.package, self.migrates_to)
        if self.package not in pinned:
            return []
        out = [PinChange(self.package, self.package, target, reason=f"{self.id}: target {target}")]
        if "pytest" in pinned and excludes(pinned["pytest"], "8.2", PYTEST_VERSIONS):
            want = ctx.targets.get("pytest", ">=8.2")
            out.append(
                PinChange("pytest", "pytest", want, reason=f"{self.id}: pytest-asyncio 1.3 needs pytest>=8.2")
            )
        return out

    # -- detection --

    def detect(self, src: SourceFile) -> Iterable[UsageSite]:
        tree, imports = src.tree, Imports(src.tree)
        test_module = pc.is_test_module(src.path) and src.kind == "test"

        def info(node: ast.AST, rule: str, detail: str = "") -> UsageSite:
            return dataclasses.replace(self.site(src, node, rule, detail), action=Action.INFO)

        module_marked = False
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets
            ):
                module_marked = module_marked or self._ast_marked([node.value], imports)
        for cls, fn in _defs(tree):
            deco = _is_fixture_ast(fn, imports)
            params = {a.arg for a in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]}
            is_async = isinstance(fn, ast.AsyncFunctionDef)
            if deco is not None:
                named, name = _str_kw(deco, "name")
                fname = name if named else fn.name
                if fname == "event_loop":
                    yield self.site(src, fn, "event-loop-override", f"event_loop override {fn.name}")
                    continue
                if fname == "event_loop_policy":
                    yield self.site(src, fn, "event-loop-policy")
                for func, _ in decorator_calls(fn):
                    q = imports.qualname(func) or ""
                    if q == MARK:
                        yield self.site(src, fn, "mark-on-fixture", f"asyncio mark on fixture {fn.name}")
                pa = any(imports.qualname(f) == "pytest_asyncio.fixture" for f, _ in decorator_calls(fn))
                if is_async or pa:
                    has_scope, scope = _str_kw(deco, "scope")
                    has_loop, _ = _str_kw(deco, "loop_scope")
                    if has_scope and scope is None and not has_loop:
                        yield self.site(src, fn, "fixture-loop-scope-dynamic")
                    elif scope in WIDE and not has_loop:
                        yield self.site(
                            src, fn, "fixture-loop-scope", f"{scope}-scoped async fixture {fn.name}"
                        )
                    if is_async and not pa:
                        yield info(
                            fn,
                            "strict-async-fixture",
                            f"@pytest.fixture async def {fn.name} (fails in strict mode)",
                        )
            is_test = (
                test_module
                and fn.name.startswith("test")
                and deco is None
                and (not cls or cls.startswith("Test"))
            )
            if "event_loop" in params and (is_test or deco is not None):
                yield self.site(src, fn, "event-loop-fixture", f"{fn.name} requests event_loop")
            if is_test and is_async and not module_marked:
                exprs = [d for d in fn.decorator_list]
                owner = (
                    next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls), None)
                    if cls
                    else None
                )
                if owner is not None:
                    exprs += owner.decorator_list
                    for n in owner.body:
                        if isinstance(n, ast.Assign) and any(
                            isinstance(t, ast.Name) and t.id == "pytestmark" for t in n.targets
                        ):
                            exprs.append(n.value)
                if not self._ast_marked(exprs, imports, (MARK, *OTHER_MARKS)):
                    yield info(
                        fn,
                        "unmarked-async-test",
                        f"async test {fn.name} has no asyncio marker (fails in strict mode)",
                    )
        for call, parent_async in _calls_with_context(tree):
            q = imports.qualname(call.func)
            if q == MARK and keyword(call, "scope") is not None:
                yield self.site(src, call, "marker-scope")
            elif q == "asyncio.get_event_loop" and not call.args:
                yield self.site(src, call, "get-event-loop" if parent_async else "get-event-loop-sync")
            elif (
                isinstance(call.func, ast.Attribute)
                and call.func.attr == "getfixturevalue"
                and call.args
                and isinstance(call.args[0], ast.Constant)
                and call.args[0].value == "event_loop"
            ):
                yield self.site(src, call, "event-loop-request")
            elif q == "pytest.mark.usefixtures" and any(
                isinstance(a, ast.Constant) and a.value == "event_loop" for a in call.args
            ):
                yield self.site(src, call, "event-loop-request")
        if (
            src.kind == "conftest"
            and "add_marker" in src.text
            and ("is_async_test" in src.text or "asyncio" in src.text)
        ):
            yield self.site(src, 1, "marker-hook")

    @staticmethod
    def _ast_marked(exprs: Iterable[ast.expr], imports: Imports, names: Sequence[str] = (MARK,)) -> bool:
        for e in exprs:
            items = e.elts if isinstance(e, (ast.List, ast.Tuple)) else [e]
            for it in items:
                f = it.func if isinstance(it, ast.Call) else it
                if imports.qualname(f) in names:
                    return True
        return False

    def detect_config(self, cfg: ConfigFile) -> Iterable[UsageSite]:
        conf = pc.read(cfg.path, cfg.text)
        if conf is None:
            return
        if conf.get("asyncio_mode") is not None:
            yield self.site(
                cfg,
                pc.line_of(cfg.text, "asyncio_mode"),
                "asyncio-mode",
                f"asyncio_mode = {conf.get('asyncio_mode')}",
            )
        if any(a.startswith("--asyncio-mode") for a in conf.args()):
            yield self.site(
                cfg, pc.line_of(cfg.text, "--asyncio-mode"), "asyncio-mode", "--asyncio-mode in addopts"
            )
        if conf.get("asyncio_default_fixture_loop_scope") is None:
            site = self.site(cfg, 0, "default-loop-scope")
            yield dataclasses.replace(site, action=Action.INFO)

    # -- rewriting --

    def rewrite_service(self, ctx: RewriteContext) -> ServiceRewrite:
        out = ServiceRewrite()
        s = survey(ctx)
        for path, text in ctx.files.items():
            if not path.endswith(".py") or not any(t.decode() in text for t in self.tokens):
                continue
            new, findings = self.rewrite_file(path, text, file_kind(path), s)
            if new != text:
                out.texts[path] = new
            out.findings.extend(findings)
        self._rewrite_config(ctx, s, out)
        return out

    def rewrite_file(self, path: str, text: str, kind: FileKind, s: Survey) -> tuple[str, list[Finding]]:
        """Rewrite one Python file given the service survey; returns the new text and findings."""
        try:
            module = cst.parse_module(text)
        except cst.ParserSyntaxError as exc:
            return text, [
                self.finding(
                    path, 0, "event-loop-fixture", f"not parsed ({exc}); nothing rewritten", Severity.ERROR
                )
            ]
        rw = FileRewriter(self, path, kind, s)
        new = MetadataWrapper(module, unsafe_skip_copy=True).visit(rw)
        findings = rw.findings
        for (p, _cls, _), ov in s.overrides.items():
            if p == path and ov.action == "delete" and ov.loop in ("module", "class"):
                findings.extend(self._mismatch_advice(ov, text))
        if new.code == text:
            return text, findings
        cctx = CodemodContext()
        for mod in sorted(rw.imports_needed):
            if mod == "asyncio" and rw.asyncio_name != "asyncio":
                continue
            AddImportsVisitor.add_needed_import(cctx, mod)
        if rw.deleted:
            for mod in ("asyncio", "pytest"):
                if mod not in rw.imports_needed:
                    RemoveImportsVisitor.remove_unused_import(cctx, mod)
        new = AddImportsVisitor(cctx).transform_module(new)
        if rw.deleted:
            new = RemoveImportsVisitor(cctx).transform_module(new)
            if new.body and not module.header and not text.startswith(("\n", "\r")):
                first = new.body[0]
                if first.leading_lines and all(line.comment is None for line in first.leading_lines):
                    new = new.with_changes(body=[first.with_changes(leading_lines=[]), *new.body[1:]])
        return new.code, findings

    def _mismatch_advice(self, ov: Override, text: str) -> list[Finding]:
        tree = _parse(text)
        if tree is None:
            return []
        imports = Imports(tree)
        local, requested = set(), set()
        for cls, fn in _defs(tree):
            if ov.loop == "class" and cls != ov.cls:
                continue
            if _is_fixture_ast(fn, imports) is not None:
                local.add(fn.name)
            elif isinstance(fn, ast.AsyncFunctionDef) and fn.name.startswith("test"):
                requested |= {a.arg for a in fn.args.args}
        outside = sorted(requested - local - BUILTIN_FIXTURES - {"event_loop"})
        if not outside:
            return []
        where = f"class {ov.cls}" if ov.loop == "class" else "this module"
        return [
            self.finding(
                ov.path,
                ov.line,
                "loop-scope-mismatch",
                f"tests in {where} now run in a {ov.loop} loop (the deleted event_loop override) but use fixtures "
                f"defined elsewhere ({', '.join(outside)}); async ones default to a function loop, so objects bound "
                f'to a loop will break: give them loop_scope="{ov.loop}" or wider',
                Severity.ADVICE,
            )
        ]

    def _rewrite_config(self, ctx: RewriteContext, s: Survey, out: ServiceRewrite) -> None:
        files = {**ctx.files, **out.texts}
        cfg = pc.active(files, s.root)
        if cfg is None:
            path, text, cfg = pc.new_config(s.root, files)
            out.findings.append(
                self.finding(
                    path,
                    0,
                    "default-loop-scope",
                    f"the service had no pytest config; pytest-asyncio settings were written to {path}",
                    Severity.ADVICE,
                )
            )
        else:
            path, text = cfg.path, files[cfg.path]
        new = text
        fixture_default = (
            s.root_loop or str(cfg.get("asyncio_default_fixture_loop_scope") or "function").strip()
        )
        new = pc.set_key(cfg, new, "asyncio_default_fixture_loop_scope", fixture_default)
        if s.root_loop:
            new = pc.set_key(cfg, new, "asyncio_default_test_loop_scope", s.root_loop)
        if new != files.get(path):
            out.texts[path] = new
        for other in pc.candidates(files, s.root)[1:]:
            if any(str(k).startswith("asyncio_") for k in other.values):
                out.findings.append(
                    self.finding(
                        other.path,
                        0,
                        "asyncio-mode",
                        f"{other.path} holds asyncio_* settings but pytest reads only {cfg.path}; move them there "
                        "(pytest 9 prints 'ignoring pytest config')",
                        Severity.HUMAN,
                    )
                )


def _calls_with_context(tree: ast.AST) -> Iterator[tuple[ast.Call, bool]]:
    """Every Call with whether its innermost enclosing function is async."""

    def walk(node: ast.AST, is_async: bool) -> Iterator[tuple[ast.Call, bool]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.AsyncFunctionDef):
                yield from walk(child, True)
            elif isinstance(child, (ast.FunctionDef, ast.Lambda)):
                yield from walk(child, False)
            else:
                if isinstance(child, ast.Call):
                    yield child, is_async
                yield from walk(child, is_async)

    yield from walk(tree, False)


RECIPE = PytestAsyncioRecipe()
