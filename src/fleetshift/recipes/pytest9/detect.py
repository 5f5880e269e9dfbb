"""Detection with the standard `ast`: old-API sites in Python files, and wide autouse fixtures in test
modules (which may run twice under `--doctest-modules`)."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping

from fleetshift.model import Finding, Severity, UsageSite
from fleetshift.recipes import _pytest_config as pc
from fleetshift.recipes._ast import Imports, decorator_calls, keyword
from fleetshift.recipes.base import Recipe, SourceFile
from fleetshift.recipes.pytest9.rules import HOOK_ARGS, WIDE


def _const(call: ast.Call, name: str) -> object:
    """The constant given as keyword `name` of `call`; None when absent or not a constant."""
    kw = keyword(call, name)
    return kw.value.value if kw is not None and isinstance(kw.value, ast.Constant) else None


def _fixture_sites(
    recipe: Recipe, src: SourceFile, node: ast.FunctionDef | ast.AsyncFunctionDef, imports: Imports
) -> Iterable[UsageSite]:
    fixture = pc.ast_fixture_call(node, imports)
    if fixture is None:
        return
    for func, _ in decorator_calls(node):
        q = imports.qualname(func) or ""
        if q == "pytest.mark.asyncio":
            yield recipe.site(src, node, "mark-on-fixture")
        elif q.startswith("pytest.mark."):
            yield recipe.site(src, node, "mark-on-fixture-human", f"@{q} on fixture {node.name}")
    scope = _const(fixture, "scope") if isinstance(fixture, ast.Call) else None
    args = node.args.args
    if scope in WIDE and args and args[0].arg == "self":
        yield recipe.site(src, node, "fixture-instance-method", f"{scope}-scoped {node.name}")


def _call_sites(recipe: Recipe, src: SourceFile, node: ast.Call, imports: Imports) -> Iterable[UsageSite]:
    q = imports.qualname(node.func) or ""
    if q == "pytest.mark.parametrize" or (
        isinstance(node.func, ast.Attribute)
        and node.func.attr == "parametrize"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "metafunc"
    ):
        if len(node.args) > 2:
            yield recipe.site(src, node, "parametrize-keywords")
        if len(node.args) > 1 and isinstance(node.args[1], ast.GeneratorExp):
            yield recipe.site(src, node, "parametrize-generator")
    elif q == "pytest.importorskip" and keyword(node, "exc_type") is None:
        yield recipe.site(src, node, "importorskip-exc-type")
    elif isinstance(node.func, ast.Attribute) and node.func.attr == "from_parent" and keyword(node, "fspath"):
        yield recipe.site(src, node, "from-parent-fspath")


def sites(recipe: Recipe, src: SourceFile) -> Iterable[UsageSite]:
    """The old-API sites of one Python file."""
    imports = Imports(src.tree)
    for node in ast.walk(src.tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if node.name in HOOK_ARGS and HOOK_ARGS[node.name][0] in {a.arg for a in node.args.args}:
                yield recipe.site(src, node, "hook-path-args", f"{node.name}({HOOK_ARGS[node.name][0]})")
            yield from _fixture_sites(recipe, src, node, imports)
        elif isinstance(node, ast.Call):
            yield from _call_sites(recipe, src, node, imports)
        elif isinstance(node, ast.Attribute):
            q = imports.qualname(node) or ""
            if q == "pytest.yield_fixture":
                yield recipe.site(src, node, "yield-fixture")
            elif q == "pytest.PytestRemovedIn9Warning":
                yield recipe.site(src, node, "removed-in-9-warning-code")
            elif q == "pytest.console_main":
                yield recipe.site(src, node, "deprecated-9-1")
        elif isinstance(node, ast.ImportFrom) and node.module == "pytest":
            if any(a.name == "yield_fixture" for a in node.names):
                yield recipe.site(src, node, "yield-fixture")
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and "PytestRemovedIn9Warning" in node.value
        ):
            yield recipe.site(src, node, "removed-in-9-warning")


def doctest_autouse(recipe: Recipe, files: Mapping[str, str]) -> list[Finding]:
    """Module/package/session autouse fixtures defined in test modules (advice under --doctest-modules)."""
    out = []
    for path, text in files.items():
        if not pc.is_test_module(path) or "autouse" not in text:
            continue
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        imports = Imports(tree)
        for node in tree.body:
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            call = pc.ast_fixture_call(node, imports)
            if not isinstance(call, ast.Call):
                continue
            if _const(call, "autouse") is True and _const(call, "scope") in ("module", "package", "session"):
                out.append(recipe.finding(path, node.lineno, "doctest-autouse", severity=Severity.ADVICE))
    return out
