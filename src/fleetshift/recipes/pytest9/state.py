"""The per-file rewriter's state and the small helpers every part of it uses (findings, function bodies)."""

from __future__ import annotations

import libcst as cst
from libcst.metadata import MetadataWrapper, ParentNodeProvider, PositionProvider

from fleetshift.model import Finding
from fleetshift.recipes import _pytest_config as pc
from fleetshift.recipes._pytest_config import syntax as pcs
from fleetshift.recipes.base import Recipe


def body(fn: cst.FunctionDef) -> list[cst.BaseStatement]:
    """The statements of a function body (a one-line body as one statement line)."""
    if isinstance(fn.body, cst.IndentedBlock):
        return list(fn.body.body)
    return [cst.SimpleStatementLine(list(fn.body.body))]


def visit_body(fn: cst.FunctionDef, visitor: cst.CSTVisitor) -> None:
    """Run a metadata-using visitor over the statements of `fn`'s body."""
    MetadataWrapper(cst.Module(body=body(fn)), unsafe_skip_copy=True).visit(visitor)


class RewriterState(cst.CSTTransformer):
    """What the rewriter knows about the file it is in (imports, enclosing classes and functions)."""

    METADATA_DEPENDENCIES = (PositionProvider, ParentNodeProvider)

    def __init__(self, recipe: Recipe, path: str, wrapper: MetadataWrapper) -> None:
        super().__init__()
        self.recipe, self.path, self.wrapper = recipe, path, wrapper
        self.findings: list[Finding] = []
        self.imports = pcs.ImportMap(cst.Module([]))
        self.need_pathlib = False
        self.classes: list[cst.ClassDef] = []
        self.depth = 0
        self.hook_params: set[str] = set()  # renamed pathlib hook arguments in the current hook
        self.test_module = pc.is_test_module(path)

    def _line(self, node: cst.CSTNode) -> int:
        try:
            return self.get_metadata(PositionProvider, node).start.line
        except KeyError:
            return 0

    def _find(self, node: cst.CSTNode | int, rule: str, message: str = "") -> None:
        line = node if isinstance(node, int) else self._line(node)
        self.findings.append(self.recipe.finding(self.path, line, rule, message))

    def visit_Module(self, node: cst.Module) -> None:
        self.imports = pcs.ImportMap(node)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.classes.append(node)

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        self.classes.pop()
        return updated
