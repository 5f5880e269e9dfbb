"""imports move from influxdb_client to influxdb_client_3

InfluxDBClient -> InfluxDBClient3; Point, WritePrecision, WriteOptions, SYNCHRONOUS, PointSettings,
WriteType and InfluxDBError come from influxdb_client_3; unused v2 imports are removed
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.recipes._ast import parse_tree, walk
from fleetshift.recipes.influxdb.facts import Facts, module_nodes
from fleetshift.recipes.influxdb.names import V3, V3_NAMES, is_v2_module
from fleetshift.recipes.influxdb.rules import V3_README
from fleetshift.recipes.influxdb.rules.import_manual import staying
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    import libcst as cst

    from fleetshift.recipes.influxdb.plan import Planning

RULE = rule(__name__, __doc__, AUTO, link=V3_README, order=0)
NODES = (ast.ImportFrom, ast.Import)  # the node types its check looks at
STAGE = 4


def check(node: ast.AST, facts: Facts) -> Iterator[str]:
    if not facts.v2:
        return
    if isinstance(node, ast.ImportFrom) and node.module and is_v2_module(node.module):
        if facts.guards and all(a.name == "ApiException" for a in node.names):
            return
        if len(staying(node, facts.used)) < len(node.names):  # some name moves or goes
            yield f"from {node.module} import ..."
    elif isinstance(node, ast.Import) and any(is_v2_module(a.name) for a in node.names):
        yield ""


def plan(p: Planning) -> None:
    """`InfluxDBClient` -> `InfluxDBClient3`, `influxdb_client.X` -> `influxdb_client_3.X` (ApiException is the
    exceptions rule's)."""
    import libcst as cst

    from fleetshift.recipes.influxdb.plan import v2_references

    for node, name in v2_references(p):
        if name == "ApiException":
            continue
        new = V3_NAMES[name]
        if isinstance(node, cst.Name):
            if new != name:
                p.set(node, lambda x, v=new: x.with_changes(value=v))
        else:
            p.set(node, lambda x, v=new: cst.Attribute(value=cst.Name(V3), attr=cst.Name(v)))


def finish(code: str, p: Planning) -> str:
    """Drop v2 imports nothing references any more, import the v3 names the rewritten code uses.

    The new import statements take the place of the first influxdb_client import.
    """
    if code == p.facts.text and not moves(p.facts.tree):
        return code  # nothing rewritten and nothing to move: unused imports stay as the author left them
    import libcst as cst

    from fleetshift.recipes import fixes
    from fleetshift.recipes.influxdb.names import V3_EXPORTS

    References, Fix, Insert = _walkers()
    module = p.written.get(code) or fixes.parse(code)
    refs = References()
    fixes.read(module, refs)
    try:
        used = read_names(parse_tree(code))
    except SyntaxError:  # code LibCST reads and `ast` does not: its names as LibCST has them
        used = cst_names(module)

    # first only to learn the aliases and what stays, the second inserts the new imports. The first changes no
    # node, so it needs no walk: imports hold no imports, and each is given as the walk would leave it
    learn = Fix(used)
    for node in refs.imports:
        if isinstance(node, cst.ImportFrom):
            learn.leave_ImportFrom(node, node)
        else:
            learn.leave_Import(node, node)
    first = learn.first
    bound = refs.bound - refs.v2_bound | learn.kept_bound
    wanted = sorted(n for n in V3_EXPORTS if n in used and n not in bound and n not in learn.imported_v3)
    wanted = sorted(set(wanted) - {local for _n, local in learn.aliased_v3})
    names = [*wanted, *(f"{n} as {local}" if n != local else n for n, local in learn.aliased_v3)]
    lines: list[str] = []
    if p.plan.need_timezone and "timezone" not in bound:
        lines.append("from datetime import timezone")
    if names:
        lines.append(f"from {V3} import {', '.join(dict.fromkeys(names))}")
    if "influxdb_client_3" in used and "influxdb_client_3" not in bound:
        lines.append(f"import {V3}")
    new_stmts = [_statement(line) for line in lines]

    enter: set[int] | None = refs.to_imports
    if first is None and new_stmts:
        enter = None  # a new module: its new import lines are walked too
        body = list(module.body)
        at = import_anchor(body)
        body[at:at] = new_stmts
        module = module.with_changes(body=body)
    return p.printer.code(module.visit(Insert(used, first, new_stmts, enter)))


@functools.lru_cache(maxsize=256)
def _statement(line: str) -> cst.BaseStatement:
    """The import statement of `line`, parsed once per process: a fleet's modules get the same few lines, and a
    statement (immutable, and one of its kind in a module) can be the same object in each of them."""
    import libcst as cst

    return cst.parse_statement(line + "\n")


@functools.cache
def _walkers() -> tuple[type, type, type]:
    """`finish`'s walks (its visitor of the bound names and imports, its fix of the imports, that fix inserting the
    new imports), made once per process: LibCST's isinstance checks against its visitor classes (abstract base
    classes) learn each new class afresh by searching every subclass of them, so classes made per module cost."""
    import libcst as cst

    from fleetshift.recipes.influxdb.edits import code_of

    class References(cst.CSTVisitor):
        def __init__(self) -> None:
            self.bound: set[str] = set()
            self.v2_bound: set[str] = set()
            self.imports: list[cst.Import | cst.ImportFrom] = []  # in the order of the module
            self.path: list[cst.CSTNode] = []  # the nodes from the module down to the one visited
            self.to_imports: set[int] = set()  # id() of the import statements and of every node above one

        def visit_Import(self, node: cst.Import) -> bool:
            self.imports.append(node)
            self.to_imports.update(map(id, self.path))
            for a in node.names:
                name = a.asname.name.value if a.asname else code_of(a.name).split(".")[0]  # type: ignore[union-attr]
                self.bound.add(name)
                if is_v2_module(code_of(a.name)):
                    self.v2_bound.add(name)
            return False

        def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
            self.imports.append(node)
            self.to_imports.update(map(id, self.path))
            if not isinstance(node.names, cst.ImportStar):
                v2 = is_v2_module(code_of(node.module)) if node.module else False
                for a in node.names:
                    name = a.asname.name.value if a.asname else code_of(a.name)  # type: ignore[union-attr]
                    self.bound.add(name)
                    if v2:
                        self.v2_bound.add(name)
            return False

        def on_visit(self, node: cst.CSTNode) -> bool:
            # what binds a name here is a statement: the walk enters only what holds statements (the names the
            # module reads come from `ast`, see `read_names`)
            if not isinstance(node, statement_holders()):
                return False
            self.path.append(node)
            return super().on_visit(node)

        def on_leave(self, original_node: cst.CSTNode) -> None:
            if self.path and self.path[-1] is original_node:
                self.path.pop()
            super().on_leave(original_node)

        def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
            self.bound.add(node.name.value)

        def visit_ClassDef(self, node: cst.ClassDef) -> None:
            self.bound.add(node.name.value)

    class Fix(cst.CSTTransformer):
        def __init__(self, used: set[str]) -> None:
            super().__init__()
            self.used = used
            self.first: cst.CSTNode | None = None  # the first v2 import statement
            self.aliased_v3: list[tuple[str, str]] = []
            self.kept_bound: set[str] = set()
            self.imported_v3: set[str] = set()

        def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
            return None  # (no per-field visits: see edits.ApplyPlan)

        def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
            return None

        def leave_ImportFrom(self, original: cst.ImportFrom, updated: cst.ImportFrom):
            mod = code_of(updated.module) if updated.module else ""
            if mod == V3 and not isinstance(updated.names, cst.ImportStar):
                self.imported_v3.update(
                    a.asname.name.value if a.asname else code_of(a.name) for a in updated.names
                )  # type: ignore[union-attr]
            if not is_v2_module(mod) or isinstance(updated.names, cst.ImportStar):
                return updated
            self.first = self.first or original
            keep = []
            for a in updated.names:
                local = a.asname.name.value if a.asname else code_of(a.name)  # type: ignore[union-attr]
                old = code_of(a.name)
                if local in self.used and (old not in V3_NAMES or (a.asname is None and V3_NAMES[old] != old)):
                    keep.append(a)
                    self.kept_bound.add(local)
                elif local in self.used and a.asname is not None:
                    self.aliased_v3.append((V3_NAMES[code_of(a.name)], local))
            if not keep:
                return cst.RemoveFromParent()
            keep[-1] = keep[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            return updated.with_changes(names=keep)

        def leave_Import(self, original: cst.Import, updated: cst.Import):
            v2 = [a for a in updated.names if is_v2_module(code_of(a.name))]
            if v2:
                self.first = self.first or original
            keep = [
                a
                for a in updated.names
                if not (
                    is_v2_module(code_of(a.name))
                    and a.asname is None
                    and code_of(a.name).split(".")[0] not in self.used
                )
            ]
            if not keep:
                return cst.RemoveFromParent()
            if len(keep) != len(updated.names):
                keep[-1] = keep[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
                return updated.with_changes(names=keep)
            return updated

    class Insert(Fix):
        def __init__(
            self, used: set[str], first: cst.CSTNode | None, new_stmts: list[cst.BaseStatement], enter: set[int] | None
        ) -> None:
            super().__init__(used)
            self.insert_at, self.new_stmts, self.enter = first, new_stmts, enter

        def on_visit(self, node: cst.CSTNode) -> bool:
            # only import statements and the lines holding them change: the walk enters only the nodes on the
            # way to an import (anything else is left as it is; its leave methods still run)
            if self.enter is not None and id(node) not in self.enter:
                return False
            return isinstance(node, statement_holders()) and super().on_visit(node)

        def leave_SimpleStatementLine(
            self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine
        ):
            if not any(s is self.insert_at for s in original.body) or not self.new_stmts:
                return updated
            stmts = [
                s.with_changes(leading_lines=original.leading_lines) if i == 0 else s
                for i, s in enumerate(self.new_stmts)
            ]
            if updated.body:
                return cst.FlattenSentinel([*stmts, updated.with_changes(leading_lines=[])])
            return cst.FlattenSentinel(stmts)

    return References, Fix, Insert


@functools.cache
def statement_holders() -> tuple[type, ...]:
    """The LibCST node types a statement (and so an import) can be inside, and the import statements."""
    import libcst as cst

    return (
        cst.Module,
        cst.BaseCompoundStatement,
        cst.BaseSuite,
        cst.SimpleStatementLine,
        cst.Else,
        cst.ExceptHandler,
        cst.ExceptStarHandler,
        cst.Finally,
        cst.MatchCase,
        cst.Import,
        cst.ImportFrom,
    )


def read_names(tree: ast.Module) -> set[str]:
    """Every name LibCST has a `Name` node for outside the import statements and the attribute names after a dot:
    the names a module reads or binds (`ast.Name`), and the ones `ast` keeps as strings (function, class,
    parameter, keyword-argument, `except ... as`, `global`/`nonlocal` and match-pattern names; `None`, `True`
    and `False`, which `ast` makes constants). Read on `ast`: a walk over LibCST's nodes costs several times more."""
    out: set[str] = set()
    for n in walk(tree):
        if isinstance(n, ast.Name):
            out.add(n.id)
        elif isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            out.add(n.name)
        elif isinstance(n, ast.arg):
            out.add(n.arg)
        elif isinstance(n, ast.keyword | ast.ExceptHandler | ast.MatchAs | ast.MatchStar):
            name = n.arg if isinstance(n, ast.keyword) else n.name
            if name:
                out.add(name)
        elif isinstance(n, ast.Global | ast.Nonlocal):
            out.update(n.names)
        elif isinstance(n, ast.MatchMapping):
            if n.rest:
                out.add(n.rest)
        elif isinstance(n, ast.MatchClass):
            out.update(n.kwd_attrs)
        elif isinstance(n, ast.Constant) and (n.value is None or n.value is True or n.value is False):
            out.add(repr(n.value))
    return out


def cst_names(module: cst.Module) -> set[str]:
    """What `read_names` reads, on LibCST's nodes."""
    import libcst as cst

    class Names(cst.CSTVisitor):
        def __init__(self) -> None:
            self.names: set[str] = set()

        def visit_Import(self, node: cst.Import) -> bool:
            return False

        def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
            return False

        def visit_Attribute(self, node: cst.Attribute) -> bool:
            node.value.visit(self)
            return False

        def visit_Name(self, node: cst.Name) -> None:
            self.names.add(node.value)

    names = Names()
    module.visit(names)
    return names.names


def moves(tree: ast.Module) -> bool:
    """Whether a module imports a v2 name with a v3 counterpart that it uses (`from influxdb_client import Point`
    in a model module): the import moves even when no other rule rewrites the module."""
    used = {n.id for n in module_nodes(tree) if isinstance(n, ast.Name)}
    return any(
        isinstance(node, ast.ImportFrom)
        and node.module
        and is_v2_module(node.module)
        and any(a.name in V3_NAMES and (a.asname or a.name) in used for a in node.names)
        for node in module_nodes(tree)
    )


def import_anchor(body: list[cst.CSTNode]) -> int:
    """Index after the top-of-file imports (and module docstring)."""
    import libcst as cst

    at = 0
    for i, stmt in enumerate(body):
        if isinstance(stmt, cst.SimpleStatementLine) and all(
            isinstance(s, (cst.Import, cst.ImportFrom))
            or (isinstance(s, cst.Expr) and isinstance(s.value, cst.SimpleString))
            for s in stmt.body
        ):
            at = i + 1
            continue
        break
    return at
