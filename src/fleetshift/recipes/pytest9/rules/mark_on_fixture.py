"""a mark applied to a fixture

@pytest.mark.asyncio on a fixture is deleted (it never had an effect); pytest 9.0 fails collection
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.recipes import _pytest_config as pc
from fleetshift.recipes._ast import decorator_calls
from fleetshift.recipes.pytest9.facts import Facts, Site
from fleetshift.recipes.pytest9.rules import DEPRECATIONS
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    import libcst as cst

RULE = rule(__name__, __doc__, AUTO, since="9.0", link=DEPRECATIONS, order=7)


def check(facts: Facts) -> Iterator[Site]:
    """`@pytest.mark.asyncio` on a fixture."""
    for node in facts.of(ast.FunctionDef, ast.AsyncFunctionDef):
        if pc.ast_fixture_call(node, facts.imports) is not None:
            for func, _ in decorator_calls(node):
                if facts.imports.qualname(func) == "pytest.mark.asyncio":
                    yield node, ""


class Fix:
    """Delete `@pytest.mark.asyncio` from fixtures that are not nested in a function."""

    def __init__(self, facts: Facts) -> None:
        assert facts.code_imports is not None
        self.imports = facts.code_imports
        self.depth = 0

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.depth += 1

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        from fleetshift.recipes._pytest_config import syntax as pcs

        self.depth -= 1
        if self.depth or pcs.fixture_decorator(updated, self.imports) is None:
            return updated
        return pcs.without_decorator(updated, self.imports, "pytest.mark.asyncio")
