"""pytest.yield_fixture

replaced by pytest.fixture
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.recipes.pytest9.facts import Facts, Metadata, RuleFix, Site
from fleetshift.recipes.pytest9.rules import DEPRECATIONS
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    import libcst as cst

RULE = rule(__name__, __doc__, AUTO, since="9.2", link=DEPRECATIONS, order=11)
NEEDS = (("yield_fixture",),)


def check(facts: Facts) -> Iterator[Site]:
    """`pytest.yield_fixture`, and `from pytest import yield_fixture`."""
    if not facts.names("yield_fixture"):
        return
    for node in facts.of(ast.Attribute):
        if node.attr == "yield_fixture" and facts.imports.qualname(node) == "pytest.yield_fixture":
            yield node, ""
    for node in facts.of(ast.ImportFrom):
        if node.module == "pytest" and any(a.name == "yield_fixture" for a in node.names):
            yield node, ""


class Fix(RuleFix):
    """`pytest.yield_fixture` and an imported `yield_fixture` become `fixture`."""

    METADATA_DEPENDENCIES = Metadata("ParentNodeProvider")

    def __init__(self, facts: Facts) -> None:
        super().__init__(facts)
        if self.imports.names.get("yield_fixture") != "pytest.yield_fixture":  # leave_Name asks a parent only then
            self.asks_no_metadata()

    def leave_ImportFrom(self, original: cst.ImportFrom, updated: cst.ImportFrom) -> cst.ImportFrom:
        import libcst as cst

        from fleetshift.recipes._pytest_config import syntax as pcs

        module = pcs.get_full_name_for_node(updated.module) if updated.module else None
        if module != "pytest" or isinstance(updated.names, cst.ImportStar):
            return updated
        names = list(updated.names)
        has_fixture = any(
            a.name.value == "fixture" and a.asname is None for a in names if isinstance(a.name, cst.Name)
        )
        out = []
        for a in names:
            if isinstance(a.name, cst.Name) and a.name.value == "yield_fixture":
                if a.asname is None and has_fixture:
                    continue
                a = a.with_changes(name=cst.Name("fixture"))
            out.append(a)
        if out and out != names:
            out[-1] = out[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            return updated.with_changes(names=out)
        return updated

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.Name:
        import libcst as cst
        from libcst.metadata import ParentNodeProvider

        if (
            updated.value == "yield_fixture"
            and self.imports.names.get("yield_fixture") == "pytest.yield_fixture"
        ):
            parent = self.get_metadata(ParentNodeProvider, original, None)  # type: ignore[attr-defined]
            if not isinstance(parent, (cst.ImportAlias, cst.Attribute)):
                return updated.with_changes(value="fixture")
        return updated

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.Attribute:
        import libcst as cst

        if self.imports.qualname(original) == "pytest.yield_fixture":
            return updated.with_changes(attr=cst.Name("fixture"))
        return updated
