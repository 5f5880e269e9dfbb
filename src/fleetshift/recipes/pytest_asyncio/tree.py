"""What the rules' LibCST fixes share about one file, and the edits several of them make.

`file_facts` reads a parsed module once, before the fixes' walk, into a frozen `FileFacts`: the service
survey, the imports, each test/fixture function and class with what it is (keyed by its original node), the
calls inside coroutines, and line numbers. The builders below (markers, `@pytest_asyncio.fixture`, loop
scopes) return new nodes and never change the facts; a fix records the imports its new code needs itself.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass
from types import MappingProxyType

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from fleetshift.model import Finding, Severity
from fleetshift.recipes import _pytest_config as pc
from fleetshift.recipes._ast import Imports as ast_imports
from fleetshift.recipes._cst import Imports
from fleetshift.recipes._pytest_config import syntax as pcs
from fleetshift.recipes.base import FileKind, Recipe
from fleetshift.recipes.pytest_asyncio.rules import MARK, RANK, WIDE
from fleetshift.recipes.pytest_asyncio.survey import Override, Survey, parse

Fixture = tuple[int, str, cst.Call | None]  # pcs.fixture_decorator: decorator index, qualname, its call


@dataclass(frozen=True)
class ClassInfo:
    """A class: whether it holds tests, is marked, the loop its tests share, and whether it has sync tests."""

    name: str
    is_test: bool
    marked: bool
    loop: str | None  # loop scope of a deleted class-level event_loop override
    has_sync_tests: bool
    line: int = 0  # of its `class` keyword


@dataclass(frozen=True)
class FuncInfo:
    """A test or fixture candidate (a function not nested in another function or in a nested class)."""

    name: str
    cls: ClassInfo | None
    fixture: str | None  # the name the fixture is requested by, None when not a fixture
    is_test: bool
    line: int
    is_async: bool = False  # as written, before any fix converted it

    @property
    def loop_owner(self) -> bool:
        """A fixture whose own rule handles it (an event_loop or event_loop_policy override)."""
        return self.fixture in ("event_loop", "event_loop_policy")


@dataclass(frozen=True)
class FileFacts:
    """One file as the fixes see it, read before they rewrite it."""

    recipe: Recipe
    path: str
    kind: FileKind
    text: str
    survey: Survey
    imports: Imports  # read only; `pytest` and `pytest_asyncio` resolve even when not imported yet
    asyncio_name: str  # the local name of the asyncio module
    test_module: bool
    module_marked: bool
    module_loop: str | None  # loop scope of a deleted module-level event_loop override
    module_sync_tests: bool
    funcs: Mapping[cst.FunctionDef, FuncInfo]
    classes: Mapping[cst.ClassDef, ClassInfo]
    async_calls: Set[cst.Call]  # calls whose innermost function is a coroutine (found when first asked for)
    positions: _Positions  # resolved when a finding first asks for a node's line (one statement at a time in the walk)

    def line(self, node: cst.CSTNode | int, fallback: int = 0) -> int:
        if isinstance(node, int):
            return node or fallback
        info = self.funcs.get(node) if isinstance(node, cst.FunctionDef) else None
        if info is not None and info.line:  # the line LibCST's positions give it (see `_def_lines`), known already
            return info.line
        pos = self.positions.get(node)
        return pos.start.line if pos is not None else fallback

    def finding(
        self,
        node: cst.CSTNode | int,
        rule: str,
        message: str = "",
        severity: Severity | None = None,
        fallback: int = 0,
    ) -> Finding:
        return self.recipe.finding(self.path, self.line(node, fallback), rule, message, severity)

    def override(self, info: FuncInfo) -> Override | None:
        """What the survey made of an event_loop override (None when it is not one)."""
        return self.survey.overrides.get((self.path, info.cls.name if info.cls else "", info.name))

    def default_fixture_loop(self) -> str:
        """The asyncio_default_fixture_loop_scope the service runs with after the migration."""
        cfg = self.survey.cfg
        configured = str(cfg.get("asyncio_default_fixture_loop_scope") or "").strip() if cfg is not None else ""
        return self.survey.root_loop or configured or "function"

    def container(self, info: FuncInfo) -> tuple[str | None, bool]:
        """The loop a function's class or module shares after a deleted override, and whether it has sync tests."""
        if info.cls is not None and info.cls.loop:
            return info.cls.loop, info.cls.has_sync_tests
        return self.module_loop, self.module_sync_tests


def sync_test(node: cst.CSTNode) -> bool:
    return isinstance(node, cst.FunctionDef) and node.asynchronous is None and node.name.value.startswith("test")


class _Reader:
    def __init__(self, path: str, survey: Survey, imports: Imports, test_module: bool) -> None:
        self.path, self.survey, self.imports, self.test_module = path, survey, imports, test_module
        self.funcs: dict[cst.FunctionDef, FuncInfo] = {}
        self.classes: dict[cst.ClassDef, ClassInfo] = {}
        self.class_stack: list[ClassInfo] = []
        self.func_stack: list[bool] = []  # async flag of each enclosing function
        self.def_lines: list[int] = []  # the line of each function definition, in the order the walk meets them
        self.def_nodes: list[cst.FunctionDef] = []  # the definitions the walk met, in order
        self.class_lines: list[int] = []  # the same for class definitions
        self.class_nodes: list[cst.ClassDef] = []

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        exprs = [d.decorator for d in node.decorators] + pytestmark_exprs(node.body.body)
        info = ClassInfo(
            node.name.value,
            node.name.value.startswith("Test"),
            has_mark(exprs, self.imports, (MARK,)),
            self.survey.shared_loop(self.path, node.name.value),
            any(sync_test(sub) for sub in node.body.body),
            self.class_lines[n] if (n := len(self.class_nodes)) < len(self.class_lines) else 0,
        )
        self.class_nodes.append(node)
        self.classes[node] = info
        self.class_stack.append(info)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.class_stack.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if not self.func_stack and len(self.class_stack) <= 1:
            cls = self.class_stack[-1] if self.class_stack else None
            fix = pcs.fixture_decorator(node, self.imports)
            name = node.name.value
            fixture = (pcs.kwarg_string(fix[2], "name") or name) if fix is not None else None
            is_test = self.test_module and name.startswith("test") and fix is None and (cls is None or cls.is_test)
            n = len(self.def_nodes)
            line = self.def_lines[n] if n < len(self.def_lines) else 0
            self.funcs[node] = FuncInfo(name, cls, fixture, is_test, line, node.asynchronous is not None)
        self.def_nodes.append(node)
        self.func_stack.append(node.asynchronous is not None)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.func_stack.pop()

    def read(self, stmts: Sequence[cst.CSTNode]) -> None:
        """Meet the definitions among `stmts` and the statements nested in them, in the order a LibCST walk does
        (definitions are statements: no expression holds one, so expressions are not walked)."""
        for stmt in stmts:
            if isinstance(stmt, cst.ClassDef):
                self.visit_ClassDef(stmt)
                self._suite(stmt.body)
                self.leave_ClassDef(stmt)
            elif isinstance(stmt, cst.FunctionDef):
                self.visit_FunctionDef(stmt)
                self._suite(stmt.body)
                self.leave_FunctionDef(stmt)
            elif isinstance(stmt, cst.BaseCompoundStatement):
                for name in _BLOCK_FIELDS:  # in the order of the node's fields
                    part = getattr(stmt, name, None)
                    if part is None:
                        continue
                    if isinstance(part, cst.BaseSuite):
                        self._suite(part)
                    elif isinstance(part, cst.If):
                        self.read([part])
                    elif isinstance(part, cst.CSTNode):  # Else, Finally
                        self._suite(part.body)
                    else:  # except handlers, match cases
                        for holder in part:
                            self._suite(holder.body)

    def _suite(self, suite: cst.BaseSuite) -> None:
        if isinstance(suite, cst.IndentedBlock):
            self.read(suite.body)


# the fields of compound statements that hold statements, in the order LibCST visits them
_BLOCK_FIELDS = ("body", "handlers", "cases", "orelse", "finalbody")


class _AsyncCalls(Set[cst.Call]):
    """The calls of a module whose innermost function is a coroutine, found (a walk over the whole module) when
    first asked for."""

    def __init__(self, module: cst.Module) -> None:
        self.module = module
        self._found: frozenset[cst.Call] | None = None

    def _all(self) -> frozenset[cst.Call]:
        if self._found is None:
            from fleetshift.recipes import fixes

            finder = _AsyncCallFinder()
            fixes.read(self.module, finder)
            self._found = frozenset(finder.calls)
        return self._found

    def __contains__(self, node: object) -> bool:
        return node in self._all()

    def __iter__(self) -> Iterator[cst.Call]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


class _AsyncCallFinder(cst.CSTVisitor):
    def __init__(self) -> None:
        self.func_stack: list[bool] = []  # async flag of each enclosing function/lambda
        self.calls: set[cst.Call] = set()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.func_stack.append(node.asynchronous is not None)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.func_stack.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.func_stack.append(False)

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self.func_stack.pop()

    def visit_Call(self, node: cst.Call) -> None:
        if self.func_stack and self.func_stack[-1]:
            self.calls.add(node)


def file_facts(
    recipe: Recipe, path: str, kind: FileKind, text: str, survey: Survey, module: cst.Module
) -> FileFacts:
    """Read a parsed module (the very nodes the fixes will see) into its facts."""
    tree = parse(text)
    imports = Imports(ast_imports(tree).names if tree is not None else {})
    asyncio_name = next((local for local, full in imports.names.items() if full == "asyncio"), "asyncio")
    imports.names.setdefault("pytest", "pytest")  # the names the fixes' new code uses
    imports.names.setdefault("pytest_asyncio", "pytest_asyncio")
    test_module = pc.is_test_module(path) and kind == "test"
    reader = _Reader(path, survey, imports, test_module)
    positions = _Positions(module)
    reader.def_lines, reader.class_lines = _def_lines(tree) if tree is not None else ([], [])
    reader.read(module.body)
    if len(reader.def_nodes) != len(reader.def_lines) or len(reader.class_nodes) != len(reader.class_lines):
        # never seen (both trees hold the same definitions): read again with LibCST's own lines
        lines = _Reader(path, survey, imports, test_module)
        lines.def_lines = [positions[n].start.line for n in reader.def_nodes]
        lines.class_lines = [positions[n].start.line for n in reader.class_nodes]
        reader = lines
        reader.read(module.body)
    module_sync_tests = any(
        sync_test(stmt)
        or (
            isinstance(stmt, cst.ClassDef)
            and stmt.name.value.startswith("Test")
            and any(sync_test(sub) for sub in stmt.body.body)
        )
        for stmt in module.body
    )
    return FileFacts(
        recipe,
        path,
        kind,
        text,
        survey,
        imports,
        asyncio_name,
        test_module,
        has_mark(pytestmark_exprs(module.body), imports, (MARK,)),
        survey.shared_loop(path),
        module_sync_tests,
        MappingProxyType(reader.funcs),
        MappingProxyType(reader.classes),
        _AsyncCalls(module),
        positions,
    )


class _Positions(Mapping[cst.CSTNode, CodeRange]):
    """LibCST's positions of a module's nodes, resolved (a code generation over the whole module) on first use; while
    `fixes.apply` walks the module with the fix `during` gives, worked out one statement at a time instead (see
    `_positions.StatementPositions`: what the provider gives, from the walk's path to the node)."""

    def __init__(self, module: cst.Module) -> None:
        self.module = module
        self._resolved: Mapping[cst.CSTNode, CodeRange] | None = None
        self._walk: _WalkPositions | None = None

    def during(self) -> _WalkPositions:
        """A fix to hand `fixes.apply` with the others: it asks for positions, and so is given those of the walk."""
        self._walk = _WalkPositions()
        return self._walk

    def _all(self) -> Mapping[cst.CSTNode, CodeRange]:
        if self._resolved is None:
            self._resolved = MetadataWrapper(self.module, unsafe_skip_copy=True).resolve(PositionProvider)
        return self._resolved

    def __getitem__(self, node: cst.CSTNode) -> CodeRange:
        walk = self._walk
        if walk is not None and self._resolved is None:
            try:
                return walk.get_metadata(PositionProvider, node)
            except KeyError:  # not walking (any more), or not a node of the module: the whole module's answer
                pass
        return self._all()[node]

    def __iter__(self) -> Iterator[cst.CSTNode]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


class _WalkPositions:
    """Declares the positions `fixes.apply` gives the fixes that ask while it walks a module (`get_metadata`)."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def get_metadata(self, key: object, node: cst.CSTNode) -> CodeRange:
        raise KeyError(node)  # until `fixes.apply` gives its own


def _def_lines(tree: ast.Module) -> tuple[list[int], list[int]]:
    """The line of each function definition (of `async`/`def`, where LibCST's positions start it) and of each
    class definition (of `class`), in source order: the order a LibCST walk meets the same definitions.
    Definitions are statements, so only statement lists are searched."""
    found: list[tuple[int, int]] = []
    classes: list[tuple[int, int]] = []
    todo: list[list[ast.stmt]] = [tree.body]
    while todo:
        for stmt in todo.pop():
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
                found.append((stmt.lineno, stmt.col_offset))
            elif isinstance(stmt, ast.ClassDef):
                classes.append((stmt.lineno, stmt.col_offset))
            for name in ("body", "orelse", "finalbody"):
                block = getattr(stmt, name, None)
                if isinstance(block, list):
                    todo.append(block)
            for holder in (*getattr(stmt, "handlers", ()), *getattr(stmt, "cases", ())):
                todo.append(holder.body)
    return [line for line, _ in sorted(found)], [line for line, _ in sorted(classes)]


# ---- markers ----------------------------------------------------------------------------------------


def marker_dec(imports: Imports, dec: cst.Decorator) -> bool:
    """Whether a decorator is the asyncio marker (bare or called)."""
    func, _ = pcs.callee(dec)
    return imports.qualname(func) == MARK


def has_mark(exprs: Iterable[cst.BaseExpression], imports: Imports, names: Sequence[str]) -> bool:
    """Whether any marker expression is one of `names` (or an attribute below one)."""
    for e in exprs:
        func, _ = pcs.callee(e)
        q = imports.qualname(func)
        if q and any(q == n or q.startswith(n + ".") for n in names):
            return True
    return False


def pytestmark_exprs(body: Sequence[cst.CSTNode]) -> list[cst.BaseExpression]:
    """The marker expressions assigned to `pytestmark` in a module or class body."""
    out: list[cst.BaseExpression] = []
    for stmt in body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if pcs.is_pytestmark(small):
                v = small.value
                if isinstance(v, (cst.List, cst.Tuple)):
                    out.extend(e.value for e in v.elements)
                else:
                    out.append(v)
    return out


def mark(loop: str | None = None) -> cst.BaseExpression:
    """`pytest.mark.asyncio`, or `pytest.mark.asyncio(loop_scope=loop)` (the caller makes sure pytest is imported)."""
    base = cst.Attribute(cst.Attribute(cst.Name("pytest"), cst.Name("mark")), cst.Name("asyncio"))
    if loop is None:
        return base
    return pcs.with_kwarg(cst.Call(base), "loop_scope", pcs.string_like(None, loop))


def scoped(
    facts: FileFacts, expr: cst.BaseExpression, loop: str, line: int
) -> tuple[cst.BaseExpression, Finding | None]:
    """An asyncio marker expression with loop_scope=loop (bare markers become calls); a Finding when it has another."""
    func, call = pcs.callee(expr)
    if call is None:
        return pcs.with_kwarg(cst.Call(func), "loop_scope", pcs.string_like(None, loop)), None
    have = pcs.kwarg(call, "loop_scope")
    if have is not None:
        if pcs.string_value(have.value) != loop:
            return expr, facts.finding(
                call,
                "event-loop-override",
                f"this asyncio marker sets loop_scope but the deleted event_loop override shared a {loop} "
                f"loop; check which loop this test needs",
                Severity.HUMAN,
                fallback=line,
            )
        return expr, None
    return pcs.with_kwarg(call, "loop_scope", pcs.string_like(None, loop)), None


def module_marker(facts: FileFacts, module: cst.Module, loop: str) -> tuple[cst.Module, list[Finding]]:
    """The module with `pytestmark` carrying the asyncio marker with loop_scope=loop (added when missing)."""
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
            found: list[Finding] = []
            value = small.value
            if isinstance(value, (cst.List, cst.Tuple)):
                elems = list(value.elements)
                for k, el in enumerate(elems):
                    if has_mark([el.value], facts.imports, (MARK,)):
                        new_value, f = scoped(facts, el.value, loop, 1)
                        found += [f] if f else []
                        elems[k] = el.with_changes(value=new_value)
                        break
                else:
                    last = elems[-1] if elems else None
                    if last is not None and not isinstance(last.comma, cst.Comma):
                        elems[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
                    elems.append(cst.Element(mark(loop)))
                value = value.with_changes(elements=elems)
            elif has_mark([value], facts.imports, (MARK,)):
                value, f = scoped(facts, value, loop, 1)
                found += [f] if f else []
            else:
                value = cst.List(
                    [
                        cst.Element(value, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
                        cst.Element(mark(loop)),
                    ]
                )
            body[i] = stmt.with_changes(body=[*stmt.body[:j], small.with_changes(value=value), *stmt.body[j + 1 :]])
            return module.with_changes(body=body), found
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
        [cst.Assign([cst.AssignTarget(cst.Name("pytestmark"))], mark(loop))],
        leading_lines=[cst.EmptyLine()] if at else [],
    )
    body.insert(at, line)
    if at < len(body) - 1 and not body[at + 1].leading_lines:
        body[at + 1] = body[at + 1].with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()])
    return module.with_changes(body=body), []


# ---- fixtures ---------------------------------------------------------------------------------------


def to_pa_fixture(fn: cst.FunctionDef, fix: Fixture) -> cst.FunctionDef:
    """`fn` with its fixture decorator made `pytest_asyncio.fixture` (arguments kept)."""
    idx, _, call = fix
    decs = list(fn.decorators)
    attr = cst.Attribute(cst.Name("pytest_asyncio"), cst.Name("fixture"))
    decs[idx] = decs[idx].with_changes(decorator=call.with_changes(func=attr) if call is not None else attr)
    return fn.with_changes(decorators=decs)


@dataclass(frozen=True)
class FixturePlan:
    """What becomes of an async (or pytest_asyncio) fixture: strict mode, loop_scope, or a human's call."""

    fix: Fixture
    strict: bool = False  # @pytest.fixture on a coroutine in strict mode: becomes @pytest_asyncio.fixture
    blocked: bool = False  # it would have to become @pytest_asyncio.fixture, but anyio/trio may own it
    dynamic: bool = False  # its scope is not a literal, so its loop_scope cannot be inferred
    loop: str | None = None  # the loop_scope it gets


def fixture_plan(facts: FileFacts, info: FuncInfo, fn: cst.FunctionDef) -> FixturePlan | None:
    """The plan for a fixture as it stands (after earlier fixes), or None when it is not an async fixture."""
    fix = pcs.fixture_decorator(fn, facts.imports)
    if fix is None or info.loop_owner or not (fn.asynchronous is not None or fix[1] == "pytest_asyncio.fixture"):
        return None
    s = facts.survey
    pa = fix[1] == "pytest_asyncio.fixture"
    strict = not pa and fn.asynchronous is not None and s.mode == "strict"
    if strict and s.other_plugin:
        return FixturePlan(fix, blocked=True)
    call = fix[2]
    if pcs.kwarg(call, "loop_scope") is not None:
        return FixturePlan(fix, strict)
    scope_arg = pcs.kwarg(call, "scope")
    scope = "function" if scope_arg is None else pcs.string_value(scope_arg.value)
    if scope is None or scope not in RANK:
        return FixturePlan(fix, strict, dynamic=True)
    container, _ = facts.container(info)
    loop = None
    if container and RANK[container] >= RANK[scope]:
        loop = container
    elif scope in WIDE:
        loop = scope
        if s.root_loop and RANK[s.root_loop] >= RANK[scope]:
            loop = s.root_loop
    if loop is not None and not pa and not strict and s.other_plugin:
        return FixturePlan(fix, blocked=True)
    return FixturePlan(fix, strict, loop=loop)


def plan_of(
    facts: FileFacts, original: cst.FunctionDef, fn: cst.FunctionDef
) -> tuple[FuncInfo | None, FixturePlan | None]:
    """A function's facts and, for an async fixture, its plan as it stands (see `fixture_plan`)."""
    info = facts.funcs.get(original)
    return info, (fixture_plan(facts, info, fn) if info is not None else None)


# ---- layout -----------------------------------------------------------------------------------------


def no_blank_lead(stmt: cst.BaseStatement) -> cst.BaseStatement:
    """`stmt` without the blank lines above it, unless one of them holds a comment."""
    if stmt.leading_lines and all(line.comment is None for line in stmt.leading_lines):
        return stmt.with_changes(leading_lines=[])
    return stmt


def tidy_class(original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
    """A class that lost statements: no blank lines above its new first one, and `pass` when it is empty."""
    body = updated.body
    if isinstance(body, cst.IndentedBlock) and body.body and len(body.body) < len(original.body.body):
        first = no_blank_lead(body.body[0])
        if first is not body.body[0]:
            updated = updated.with_changes(body=body.with_changes(body=[first, *body.body[1:]]))
    if isinstance(updated.body, cst.IndentedBlock) and not updated.body.body:
        updated = updated.with_changes(body=updated.body.with_changes(body=[cst.SimpleStatementLine([cst.Pass()])]))
    return updated
