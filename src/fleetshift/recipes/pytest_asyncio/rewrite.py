"""The per-file rewrite: the facts read once, then every active rule's `Fix` applied in one LibCST walk."""

from __future__ import annotations

import ast
from collections.abc import Set

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor

from fleetshift import astparse
from fleetshift.model import Finding, Severity
from fleetshift.recipes import fixes
from fleetshift.recipes._ast import parse_tree
from fleetshift.recipes.base import FileKind, Recipe, SourceFile
from fleetshift.recipes.pytest_asyncio.facts import module_facts
from fleetshift.recipes.pytest_asyncio.survey import Survey
from fleetshift.recipes.pytest_asyncio.tree import file_facts, no_blank_lead


def rewrite_file(
    recipe: Recipe, path: str, text: str, kind: FileKind, s: Survey, active: Set[str]
) -> tuple[str, list[Finding]]:
    """Rewrite one Python file given the service survey and the active rules; returns the new text and findings."""
    try:
        tree = parse_tree(text)  # first: LibCST's native parser can overflow its stack on what ast refuses
        if not recipe.needs_libcst(_sites(recipe, path, text, kind, tree, s, active), active):
            return text, []
        module = fixes.parse(text)
    except (cst.ParserSyntaxError, SyntaxError) as exc:
        return text, [
            recipe.finding(path, 0, "event-loop-fixture", f"not parsed ({exc}); nothing rewritten", Severity.ERROR)
        ]
    except (RecursionError, MemoryError):  # the parser's stack limits
        message = "too deeply nested to parse; nothing rewritten"
        return text, [recipe.finding(path, 0, "event-loop-fixture", message, Severity.ERROR)]
    facts = file_facts(recipe, path, kind, text, s, module)
    applied = [
        m.module.Fix(facts) for m in recipe.rule_modules if m.rule.id in active and hasattr(m.module, "Fix")
    ]
    new = fixes.apply(module, [*applied, facts.positions.during()])
    findings = [f for fix in applied for f in getattr(fix, "findings", ())]
    code = fixes.code(module, new)  # generated once: each `Module.code` renders the whole module again
    if code == text:
        return text, findings
    needs: set[str] = set().union(*(getattr(fix, "needs", set()) for fix in applied))
    removed = any(getattr(fix, "removed", False) for fix in applied)
    cctx = CodemodContext()
    added = [mod for mod in sorted(needs) if not (mod == "asyncio" and facts.asyncio_name != "asyncio")]
    for mod in added:
        AddImportsVisitor.add_needed_import(cctx, mod)
    if removed:
        for mod in ("asyncio", "pytest"):
            if mod not in needs:
                RemoveImportsVisitor.remove_unused_import(cctx, mod)
    if added and not _imported_on_top(new, added):  # else the visitor's two walks return the module as it was
        new = _add_imports(new, cctx)
        code = fixes.code(module, new)
    if removed and not _kept(code, [mod for mod in ("asyncio", "pytest") if mod not in needs]):
        new = RemoveImportsVisitor(cctx).transform_module(new)
        if new.body and not module.header and not text.startswith(("\n", "\r")):
            first = no_blank_lead(new.body[0])
            if first is not new.body[0]:
                new = new.with_changes(body=[first, *new.body[1:]])
        code = fixes.code(module, new)
    return code, findings


def _add_imports(module: cst.Module, cctx: CodemodContext) -> cst.Module:
    """`AddImportsVisitor(cctx).transform_module(module)` without its two walks over the whole module, when every
    import asked for is a plain `import m`: then the visitor reads and changes nothing but the import lines that open
    the module (its gatherer keeps only those, and its `leave_ImportFrom` only adds names to a `from` import), so
    its own `leave_Module` is called on the module as it is (the walks would hand it an unchanged copy)."""
    try:
        from libcst.codemod.visitors._add_imports import _GatherTopImportsBeforeStatements
    except ImportError:  # another LibCST release: let the visitor walk
        return AddImportsVisitor(cctx).transform_module(module)
    visitor = AddImportsVisitor(cctx)
    if visitor.module_mapping or visitor.module_aliases or visitor.alias_mapping:
        return AddImportsVisitor(cctx).transform_module(module)
    gatherer = _GatherTopImportsBeforeStatements(cctx)
    gatherer.leave_Module(module)
    visitor.all_imports = gatherer.all_imports
    visitor.module_imports = visitor.module_imports - gatherer.module_imports
    return visitor.leave_Module(module, module)


def _sites(recipe: Recipe, path: str, text: str, kind: FileKind, tree: ast.Module, s: Survey, active: Set[str]) -> bool:
    """Whether an active rule's `check` reports a site in the file (on `ast`, as detection does)."""
    facts = module_facts(SourceFile(path, text, tree, kind), s.overrides)
    return any(True for _, check in recipe.hooks("check", active) for _ in check(facts))


_BINDS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _kept(code: str, modules: list[str]) -> bool:
    """Whether `RemoveImportsVisitor` would leave `code` as it is when asked to remove each of `modules` where
    unused (its scope analysis is the costliest walk of the rewrite): each module is imported nowhere, or only by
    one plain `import m` at the top level of the module that is the only binding of the name anywhere, and the
    name is read somewhere (so every read resolves to that import: it is used)."""
    try:
        tree = astparse.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    wanted = set(modules)
    binds: dict[str, int] = {}
    reads: set[str] = set()
    imports: dict[str, int] = {}
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load):
                reads.add(node.id)
            else:
                names.append(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                names.append(alias.asname or alias.name.split(".")[0])
                if isinstance(node, ast.Import) and alias.name.split(".")[0] in wanted:
                    top = node in tree.body and alias.asname is None and alias.name in wanted
                    imports[alias.name.split(".")[0]] = imports.get(alias.name.split(".")[0], 0) + (1 if top else 2)
        elif isinstance(node, _BINDS):
            names.append(node.name)
        elif isinstance(node, ast.arg):
            names.append(node.arg)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            names.extend(node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.append(node.name)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            names.append(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            names.append(node.rest)
        for name in names:
            binds[name] = binds.get(name, 0) + 1
    return all(not imports.get(m) or (imports[m] == 1 and binds.get(m) == 1 and m in reads) for m in wanted)


def _imported_on_top(module: cst.Module, modules: list[str]) -> bool:
    """Whether every module is imported plainly (`import m`, no alias) by the import lines that open the module
    (after a docstring or `__strict__` line): those AddImportsVisitor leaves be, so it would add none of them."""
    try:
        from libcst.codemod.visitors._add_imports import _skip_first  # noqa: F401 (the visitor's own test, below)
    except ImportError:  # another LibCST release: let the visitor decide
        return False
    have: set[str] = set()
    for stmt in module.body[1 if _skips_first(module) else 0 :]:
        if not (
            isinstance(stmt, cst.SimpleStatementLine)
            and len(stmt.body) == 1
            and isinstance(stmt.body[0], cst.Import | cst.ImportFrom)
        ):
            break
        if isinstance(stmt.body[0], cst.Import):
            have.update(alias.evaluated_name for alias in stmt.body[0].names if alias.evaluated_alias is None)
    return set(modules) <= have


def _skips_first(module: cst.Module) -> bool:
    """What AddImportsVisitor's `_skip_first` answers (whether the module opens with a docstring or a `__strict__ =`
    line, which its imports go after), read off the first statement without building its matchers."""
    if not module.body:
        return False
    first = module.body[0]
    if not isinstance(first, cst.SimpleStatementLine) or len(first.body) != 1:
        return False
    small = first.body[0]
    if isinstance(small, cst.Assign):
        return (len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name)
                and small.targets[0].target.value == "__strict__")
    return isinstance(small, cst.Expr) and isinstance(small.value, cst.SimpleString)
