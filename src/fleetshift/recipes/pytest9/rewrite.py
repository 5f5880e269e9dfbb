"""The pytest recipe's file rewrite: every active rule's `Fix` applied to a Python file in one LibCST walk, and
what the rules report (a human rule's `check` sites, a fix's own findings, the imports the fixes need)."""

from __future__ import annotations

from collections.abc import Mapping

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor

from fleetshift.model import Action, Finding, Severity
from fleetshift.recipes import fixes
from fleetshift.recipes._ast import parse_tree
from fleetshift.recipes.base import Recipe
from fleetshift.recipes.pytest9.facts import facts_of


def rewrite_file(
    recipe: Recipe, path: str, text: str, active: frozenset[str], files: Mapping[str, str] | None = None
) -> tuple[str, list[Finding]]:
    """Rewrite one Python file with the rules whose slugs are in `active` (`files`: the service's files, for
    rules that look at the modules a file imports); returns the new text and findings."""
    try:
        tree = parse_tree(text)  # first: LibCST's native parser can overflow its stack on what ast refuses
    except SyntaxError as exc:
        return text, [recipe.finding(path, 0, "hook-path-args", f"not parsed ({exc}); nothing rewritten", Severity.ERROR)]
    except (RecursionError, MemoryError):  # the parser's stack limits
        message = "too deeply nested to parse; nothing rewritten"
        return text, [recipe.finding(path, 0, "hook-path-args", message, Severity.ERROR)]
    facts = facts_of(path, tree, active, files, text)
    rules = [m for m in recipe.rule_modules if m.rule.slug in active]
    findings = []
    sites = False
    for m, check in recipe.hooks("check", active):
        for at, detail, *_ in check(facts):
            sites = True
            if m.rule.action is Action.HUMAN:
                line = at if isinstance(at, int) else getattr(at, "lineno", 0)
                findings.append(recipe.finding(path, line, m.rule.slug, detail))
    findings.sort(key=lambda f: f.line)
    if not recipe.needs_libcst(sites, active):
        return text, findings
    try:
        module = fixes.parse(text)
    except cst.ParserSyntaxError as exc:
        message = f"not parsed ({exc}); nothing rewritten"
        return text, [recipe.finding(path, 0, "hook-path-args", message, Severity.ERROR)]
    except (RecursionError, MemoryError):  # the parser's stack limits
        message = "too deeply nested to parse; nothing rewritten"
        return text, [recipe.finding(path, 0, "hook-path-args", message, Severity.ERROR)]
    applied = [m.module.Fix(facts) for m in rules if hasattr(m.module, "Fix")]
    new = fixes.apply(module, applied)
    imports: set[str] = set()
    for fix in applied:
        findings.extend(
            recipe.finding(path, n, slug, message) for n, slug, message in getattr(fix, "findings", ())
        )
        imports |= getattr(fix, "needs_imports", set())
    if imports:
        context = CodemodContext()
        for name in sorted(imports):
            AddImportsVisitor.add_needed_import(context, name)
        new = AddImportsVisitor(context).transform_module(new)
    return fixes.code(module, new), findings
