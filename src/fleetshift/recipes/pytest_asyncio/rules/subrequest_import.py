"""`from pytest_asyncio.plugin import SubRequest` (gone since 0.23)

imported from _pytest.fixtures, where pytest defines the class (pytest-asyncio 0.21 only aliased it to
typing.Any for its own annotations); _pytest.fixtures.SubRequest is there in pytest 8 and 9
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.recipes.pytest_asyncio.facts import ModuleFacts, Site
from fleetshift.recipes.pytest_asyncio.fixing import FileFix
from fleetshift.recipes.pytest_asyncio.rules import CHANGELOG
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    import libcst as cst

RULE = rule(__name__, __doc__, AUTO, since="0.23", link=CHANGELOG, order=18)
NEEDS = (("SubRequest",), ("pytest_asyncio",))

PLUGIN = "pytest_asyncio.plugin"
HOME = "_pytest.fixtures"


def check(facts: ModuleFacts) -> Iterator[Site]:
    """`from pytest_asyncio.plugin import SubRequest` (with or without `as`)."""
    if not any(m == PLUGIN for m, _ in facts.imports.modules):
        return
    for node in ast.walk(facts.tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module == PLUGIN:
            if any(a.name == "SubRequest" for a in node.names):
                yield Site(node)


class Fix(FileFix):
    """The import moves to `_pytest.fixtures`; other names of the same import stay where they were."""

    def leave_SimpleStatementLine(
        self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine
    ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement]:
        import libcst as cst
        from libcst.helpers import get_full_name_for_node

        from fleetshift.recipes.fixes import lone_import_from

        imp = lone_import_from(updated, PLUGIN)
        if imp is None:
            return updated
        moved = [a for a in imp.names if get_full_name_for_node(a.name) == "SubRequest"]
        if not moved:
            return updated
        home = cst.parse_expression(HOME)
        assert isinstance(home, cst.Attribute)
        kept = [a for a in imp.names if a not in moved]
        if not kept:
            return updated.with_changes(body=[imp.with_changes(module=home)])
        if imp.rpar is None:
            kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        new = cst.SimpleStatementLine(
            [cst.ImportFrom(module=home, names=[m.with_changes(comma=cst.MaybeSentinel.DEFAULT) for m in moved])]
        )
        return cst.FlattenSentinel([updated.with_changes(body=[imp.with_changes(names=kept)]), new])
