"""The per-file rewriter's state and the small edits every part of it uses (findings, markers, fixtures)."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst
from libcst.metadata import PositionProvider

from fleetshift.model import Finding, Severity
from fleetshift.recipes import _pytest_config as pc
from fleetshift.recipes._pytest_config import syntax as pcs
from fleetshift.recipes.base import FileKind, Recipe
from fleetshift.recipes.pytest_asyncio.survey import Survey


@dataclass
class ClassCtx:
    """A class the rewriter is inside: whether it holds tests, is marked, and the loop its tests share."""

    node: cst.ClassDef
    is_test: bool
    marked: bool
    loop: str | None  # loop scope of a deleted class-level event_loop override
    has_sync_tests: bool


class RewriterState(cst.CSTTransformer):
    """What the rewriter knows about the file it is in, and how it reports and builds markers and fixtures."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, recipe: Recipe, path: str, kind: FileKind, s: Survey) -> None:
        super().__init__()
        self.recipe, self.path, self.kind, self.s = recipe, path, kind, s
        self.test_module = pc.is_test_module(path) and kind == "test"
        self.findings: list[Finding] = []
        self.imports_needed: set[str] = set()
        self.deleted = False
        self.classes: list[ClassCtx] = []
        self.funcs: list[bool] = []  # async flag of each enclosing function/lambda
        self.module_loop: str | None = None
        self.module_marked = False
        self.module_sync_tests = False
        self.newly_marked: list[str] = []
        self.imports = pcs.ImportMap(cst.Module([]))
        self.asyncio_name = "asyncio"
        self.current_line = 0

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

    def _mark(self, loop: str | None = None) -> cst.BaseExpression:
        """`pytest.mark.asyncio`, or `pytest.mark.asyncio(loop_scope=loop)`; pytest is imported if needed."""
        self.imports_needed.add("pytest")
        self.imports.names.setdefault("pytest", "pytest")
        base = cst.Attribute(cst.Attribute(cst.Name("pytest"), cst.Name("mark")), cst.Name("asyncio"))
        if loop is None:
            return base
        return pcs.with_kwarg(cst.Call(base), "loop_scope", pcs.string_like(None, loop))

    def _pa_fixture(self) -> cst.Attribute:
        self.imports_needed.add("pytest_asyncio")
        self.imports.names.setdefault("pytest_asyncio", "pytest_asyncio")
        return cst.Attribute(cst.Name("pytest_asyncio"), cst.Name("fixture"))

    def _to_pa_fixture(self, fn: cst.FunctionDef, fix: tuple[int, str, cst.Call | None]) -> cst.FunctionDef:
        idx, _, call = fix
        decs = list(fn.decorators)
        new = call.with_changes(func=self._pa_fixture()) if call is not None else self._pa_fixture()
        decs[idx] = decs[idx].with_changes(decorator=new)
        return fn.with_changes(decorators=decs)
