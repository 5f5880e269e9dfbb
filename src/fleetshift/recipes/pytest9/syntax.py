"""The LibCST helpers the pytest rules' fixes share: a node's line, a function body walked or rewritten on its
own, a name renamed, and the `parametrize` call. Imported by the `Fix` methods themselves (this module
imports LibCST)."""

from __future__ import annotations

from typing import Any

import libcst as cst
from libcst.metadata import PositionProvider

from fleetshift.recipes._cst import Imports
from fleetshift.recipes._pytest_config import syntax as pcs
from fleetshift.recipes.fixes import apply


def line(fix: Any, node: cst.CSTNode) -> int:
    """The first line of `node` for a fix that asked for `PositionProvider` (0 when unknown)."""
    try:
        return fix.get_metadata(PositionProvider, node).start.line
    except KeyError:
        return 0


def body_module(fn: cst.FunctionDef) -> cst.Module:
    """The statements of `fn`'s body as a module of their own (a one-line body as one statement line)."""
    if isinstance(fn.body, cst.IndentedBlock):
        return cst.Module(body=list(fn.body.body))
    return cst.Module(body=[cst.SimpleStatementLine(list(fn.body.body))])


def visit_body(fn: cst.FunctionDef, visitor: object) -> None:
    """Walk `fn`'s body with a visitor written like a rule's fix (metadata on request)."""
    apply(body_module(fn), [visitor])


def transform_body(fn: cst.FunctionDef, *fixes: object) -> cst.FunctionDef:
    """`fn` with its body rewritten by fixes written like a rule's fix."""
    new = apply(body_module(fn), fixes)
    if isinstance(fn.body, cst.IndentedBlock):
        return fn.with_changes(body=fn.body.with_changes(body=new.body))
    only = new.body[0]
    assert isinstance(only, cst.SimpleStatementLine)
    return fn.with_changes(body=fn.body.with_changes(body=only.body))


class Rename:
    """Renames a local name; keyword names and attribute names stay as they are."""

    def __init__(self, old: str, new: str) -> None:
        self.old, self.new = old, new

    def leave_Arg(self, original: cst.Arg, updated: cst.Arg) -> cst.Arg:
        return updated.with_changes(keyword=original.keyword) if original.keyword is not None else updated

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.Attribute:
        return updated.with_changes(attr=original.attr)

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.Name:
        return updated.with_changes(value=self.new) if updated.value == self.old else updated


def is_parametrize(call: cst.Call, imports: Imports) -> bool:
    """`pytest.mark.parametrize(...)` (however imported) or `metafunc.parametrize(...)`."""
    if imports.qualname(call.func) == "pytest.mark.parametrize":
        return True
    name = pcs.get_full_name_for_node(call.func) or ""
    return name.endswith(".parametrize") and name.split(".")[0] == "metafunc"
