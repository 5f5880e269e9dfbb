"""Detection (standard `ast` only): old pytest-asyncio API in Python files and asyncio settings in config."""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Iterable, Iterator, Sequence

from fleetshift.model import Action, UsageSite
from fleetshift.recipes import _pytest_config as pc
from fleetshift.recipes._ast import Imports, decorator_calls, keyword
from fleetshift.recipes.base import ConfigFile, Recipe, SourceFile
from fleetshift.recipes.pytest_asyncio.rules import MARK, OTHER_MARKS, WIDE
from fleetshift.recipes.pytest_asyncio.survey import defs, fixture_name, params, str_kw


def _info(
    recipe: Recipe, src: SourceFile | ConfigFile, node: ast.AST | int, rule: str, detail: str = ""
) -> UsageSite:
    """A site that only informs, whatever the rule's action."""
    return dataclasses.replace(recipe.site(src, node, rule, detail), action=Action.INFO)


def _pytestmark_values(body: Iterable[ast.stmt]) -> Iterator[ast.expr]:
    for node in body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets
        ):
            yield node.value


def ast_marked(exprs: Iterable[ast.expr], imports: Imports, names: Sequence[str] = (MARK,)) -> bool:
    """Whether any of the marker expressions (or list/tuple of them) is one of `names`."""
    for e in exprs:
        items = e.elts if isinstance(e, (ast.List, ast.Tuple)) else [e]
        for it in items:
            f = it.func if isinstance(it, ast.Call) else it
            if imports.qualname(f) in names:
                return True
    return False


def calls_with_context(tree: ast.AST) -> Iterator[tuple[ast.Call, bool]]:
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


def _fixture_sites(
    recipe: Recipe,
    src: SourceFile,
    fn: ast.FunctionDef | ast.AsyncFunctionDef,
    deco: ast.Call | bool,
    imports: Imports,
) -> Iterator[UsageSite]:
    if fixture_name(fn, deco) == "event_loop_policy":
        yield recipe.site(src, fn, "event-loop-policy")
    for func, _ in decorator_calls(fn):
        if imports.qualname(func) == MARK:
            yield recipe.site(src, fn, "mark-on-fixture", f"asyncio mark on fixture {fn.name}")
    is_async = isinstance(fn, ast.AsyncFunctionDef)
    pa = any(imports.qualname(f) == "pytest_asyncio.fixture" for f, _ in decorator_calls(fn))
    if is_async or pa:
        has_scope, scope = str_kw(deco, "scope")
        has_loop, _ = str_kw(deco, "loop_scope")
        if has_scope and scope is None and not has_loop:
            yield recipe.site(src, fn, "fixture-loop-scope-dynamic")
        elif scope in WIDE and not has_loop:
            yield recipe.site(src, fn, "fixture-loop-scope", f"{scope}-scoped async fixture {fn.name}")
        if is_async and not pa:
            yield _info(
                recipe,
                src,
                fn,
                "strict-async-fixture",
                f"@pytest.fixture async def {fn.name} (fails in strict mode)",
            )


def sites(recipe: Recipe, src: SourceFile) -> Iterator[UsageSite]:
    """Old-API sites in one Python file."""
    tree, imports = src.tree, Imports(src.tree)
    test_module = pc.is_test_module(src.path) and src.kind == "test"
    module_marked = ast_marked(_pytestmark_values(tree.body), imports)
    for cls, fn in defs(tree):
        deco = pc.ast_fixture_call(fn, imports)
        if deco is not None:
            if fixture_name(fn, deco) == "event_loop":
                yield recipe.site(src, fn, "event-loop-override", f"event_loop override {fn.name}")
                continue
            yield from _fixture_sites(recipe, src, fn, deco, imports)
        is_test = (
            test_module
            and fn.name.startswith("test")
            and deco is None
            and (not cls or cls.startswith("Test"))
        )
        if "event_loop" in params(fn) and (is_test or deco is not None):
            yield recipe.site(src, fn, "event-loop-fixture", f"{fn.name} requests event_loop")
        if is_test and isinstance(fn, ast.AsyncFunctionDef) and not module_marked:
            exprs = list(fn.decorator_list)
            owner = (
                next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls), None)
                if cls
                else None
            )
            if owner is not None:
                exprs += owner.decorator_list
                exprs.extend(_pytestmark_values(owner.body))
            if not ast_marked(exprs, imports, (MARK, *OTHER_MARKS)):
                yield _info(
                    recipe,
                    src,
                    fn,
                    "unmarked-async-test",
                    f"async test {fn.name} has no asyncio marker (fails in strict mode)",
                )
    for call, parent_async in calls_with_context(tree):
        q = imports.qualname(call.func)
        if q == MARK and keyword(call, "scope") is not None:
            yield recipe.site(src, call, "marker-scope")
        elif q == "asyncio.get_event_loop" and not call.args:
            yield recipe.site(src, call, "get-event-loop" if parent_async else "get-event-loop-sync")
        elif (
            isinstance(call.func, ast.Attribute)
            and call.func.attr == "getfixturevalue"
            and call.args
            and isinstance(call.args[0], ast.Constant)
            and call.args[0].value == "event_loop"
        ):
            yield recipe.site(src, call, "event-loop-request")
        elif q == "pytest.mark.usefixtures" and any(
            isinstance(a, ast.Constant) and a.value == "event_loop" for a in call.args
        ):
            yield recipe.site(src, call, "event-loop-request")
    if (
        src.kind == "conftest"
        and "add_marker" in src.text
        and ("is_async_test" in src.text or "asyncio" in src.text)
    ):
        yield recipe.site(src, 1, "marker-hook")


def config_sites(recipe: Recipe, cfg: ConfigFile) -> Iterator[UsageSite]:
    """asyncio settings in one config file: the mode (kept) and a missing default fixture loop scope."""
    conf = pc.read(cfg.path, cfg.text)
    if conf is None:
        return
    if conf.get("asyncio_mode") is not None:
        yield recipe.site(
            cfg,
            pc.line_of(cfg.text, "asyncio_mode"),
            "asyncio-mode",
            f"asyncio_mode = {conf.get('asyncio_mode')}",
        )
    if any(a.startswith("--asyncio-mode") for a in conf.args()):
        yield recipe.site(
            cfg, pc.line_of(cfg.text, "--asyncio-mode"), "asyncio-mode", "--asyncio-mode in addopts"
        )
    if conf.get("asyncio_default_fixture_loop_scope") is None:
        yield _info(recipe, cfg, 0, "default-loop-scope")
