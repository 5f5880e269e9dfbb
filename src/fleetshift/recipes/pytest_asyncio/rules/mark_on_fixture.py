"""a mark applied to a fixture

@pytest.mark.asyncio on a fixture is deleted (it never had an effect; pytest >=9 fails collection)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.recipes._ast import decorator_calls
from fleetshift.recipes.pytest_asyncio.facts import ModuleFacts, Site
from fleetshift.recipes.pytest_asyncio.fixing import FileFix
from fleetshift.recipes.pytest_asyncio.needs import MARK_ON_FIXTURE
from fleetshift.recipes.pytest_asyncio.rules import CHANGELOG, MARK
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    import libcst as cst

RULE = rule(__name__, __doc__, AUTO, since="9.0", link=CHANGELOG, order=14)
NEEDS = (("fixture",), (MARK_ON_FIXTURE,))  # a fixture decorator and the asyncio mark on one def


def check(facts: ModuleFacts) -> Iterator[Site]:
    """Fixtures (event_loop overrides excepted) decorated with the asyncio marker."""
    for d in facts.defs:
        if d.deco is None or d.fixture == "event_loop":
            continue
        for func, _ in decorator_calls(d.fn):
            if facts.imports.qualname(func) == MARK:
                yield Site(d.fn, f"asyncio mark on fixture {d.fn.name}")


class Fix(FileFix):
    """Delete the asyncio marker from fixtures."""

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        from fleetshift.recipes._pytest_config import syntax as pcs

        info = self.facts.funcs.get(original)
        if info is None or info.fixture is None:
            return updated
        return pcs.without_decorator(updated, self.facts.imports, MARK)
