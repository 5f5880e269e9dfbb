"""`@pytest.fixture` on an async function in strict mode

becomes @pytest_asyncio.fixture (pytest >=9 errors on an unhandled async fixture)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.recipes.pytest_asyncio.facts import ModuleFacts, Site, async_fixtures
from fleetshift.recipes.pytest_asyncio.fixing import FileFix
from fleetshift.recipes.pytest_asyncio.needs import STRICT_ASYNC_FIXTURE
from fleetshift.recipes.pytest_asyncio.rules import CONFIG
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    import libcst as cst

RULE = rule(__name__, __doc__, AUTO, since="0.25", link=CONFIG, order=10)
NEEDS = (("fixture",), ("async",), (STRICT_ASYNC_FIXTURE,))  # an async def a fixture decorator may decorate


def check(facts: ModuleFacts) -> Iterator[Site]:
    """Async fixtures under `@pytest.fixture` (informational: the mode is read from the service's config)."""
    for f in async_fixtures(facts):
        if f.is_async and not f.pa:
            yield Site(f.d.fn, f"@pytest.fixture async def {f.d.fn.name} (fails in strict mode)", info=True)


class Fix(FileFix):
    """`@pytest.fixture` becomes `@pytest_asyncio.fixture` on a coroutine when the service runs in strict mode."""

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        from fleetshift.recipes.pytest_asyncio.tree import plan_of, to_pa_fixture

        _, plan = plan_of(self.facts, original, updated)
        if plan is None or not plan.strict or plan.blocked:
            return updated
        self.needs.add("pytest_asyncio")
        return to_pa_fixture(updated, plan.fix)
