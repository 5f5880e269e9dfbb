"""`fspath=` argument of Node.from_parent

replaced by path=pathlib.Path(...)
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.model import Action
from fleetshift.recipes._ast import keyword
from fleetshift.recipes.pytest9.facts import Facts, Metadata, OuterFunctionFix, Site
from fleetshift.recipes.pytest9.rules import DEPRECATIONS
from fleetshift.recipes.pytest9.rules.hook_path_args import renamed
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    import libcst as cst

RULE = rule(__name__, __doc__, AUTO, since="9.1", link=DEPRECATIONS, order=2)
NEEDS = (("from_parent",), ("fspath",))
BOTH = "from_parent gets both fspath= and path=; keep only path="


def check(facts: Facts) -> Iterator[Site]:
    """`<Node>.from_parent(..., fspath=...)`; one also given `path=` is reported by the run, not rewritten."""
    if not (facts.names("from_parent") and facts.names("fspath")):
        return
    for node in facts.of(ast.Call):
        if (
            isinstance(node.func, ast.Attribute)
            and node.func.attr == "from_parent"
            and keyword(node, "fspath")
        ):
            if keyword(node, "path"):
                yield node, BOTH, Action.HUMAN
            else:
                yield node, ""


class Fix(OuterFunctionFix):
    """`fspath=x` becomes `path=pathlib.Path(x)`, or `path=x` for a hook argument hook-path-args renames."""

    METADATA_DEPENDENCIES = Metadata("PositionProvider")

    def __init__(self, facts: Facts) -> None:
        super().__init__(facts)
        self.needs_imports: set[str] = set()  # modules the rewritten file must import
        self.hook_argument: str | None = None  # the renamed py.path argument of the hook we are in
        self.renamed = renamed(facts) if "hook-path-args" in facts.active else {}
        if not self.renamed and not facts.names("from_parent"):  # a line is asked only of these
            self.asks_no_metadata()

    def enter_outer(self, node: cst.FunctionDef) -> None:
        from fleetshift.recipes.pytest9.syntax import line

        self.hook_argument = self.renamed.get(line(self, node)) if self.renamed else None

    def rewrite_outer(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        self.hook_argument = None
        return updated

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        import libcst as cst

        from fleetshift.recipes._pytest_config import syntax as pcs
        from fleetshift.recipes.pytest9.syntax import line

        name = pcs.get_full_name_for_node(updated.func) or ""
        if not name.endswith(".from_parent") or pcs.kwarg(updated, "fspath") is None:
            return updated
        if pcs.kwarg(updated, "path") is not None:
            self.findings.append((line(self, original), "from-parent-fspath", BOTH))
            return updated
        args = []
        for a in updated.args:
            if a.keyword is not None and a.keyword.value == "fspath":
                value = a.value
                if not (isinstance(value, cst.Name) and value.value == self.hook_argument):
                    self.needs_imports.add("pathlib")
                    value = cst.Call(cst.Attribute(cst.Name("pathlib"), cst.Name("Path")), [cst.Arg(value)])
                a = a.with_changes(keyword=cst.Name("path"), value=value)
            args.append(a)
        return updated.with_changes(args=args)
