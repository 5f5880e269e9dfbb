"""`@pytest.fixture` on an async function in strict mode

becomes @pytest_asyncio.fixture (pytest >=9 errors on an unhandled async fixture)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.recipes.pytest_asyncio.facts import ModuleFacts, Site, async_fixtures
from fleetshift.recipes.pytest_asyncio.rules import CONFIG
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    import libcst as cst

    from fleetshift.recipes.pytest_asyncio.tree import FileFacts

RULE = rule(__name__, __doc__, AUTO, since="0.25", link=CONFIG, order=10)


def check(facts: ModuleFacts) -> Iterator[Site]:
    """Async fixtures under `@pytest.fixture` (informational: the mode is read from the service's config)."""
    for f in async_fixtures(facts):
        if f.is_async and not f.pa:
            yield Site(f.d.fn, f"@pytest.fixture async def {f.d.fn.name} (fails in strict mode)", info=True)


class Fix:
    """`@pytest.fixture` becomes `@pytest_asyncio.fixture` on a coroutine when the service runs in strict mode."""

    def __init__(self, facts: FileFacts) -> None:
        self.facts = facts
        self.needs: set[str] = set()

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        from fleetshift.recipes.pytest_asyncio.tree import fixture_plan, to_pa_fixture

        info = self.facts.funcs.get(original)
        plan = fixture_plan(self.facts, info, updated) if info is not None else None
        if plan is None or not plan.strict or plan.blocked:
            return updated
        self.needs.add("pytest_asyncio")
        return to_pa_fixture(updated, plan.fix)
