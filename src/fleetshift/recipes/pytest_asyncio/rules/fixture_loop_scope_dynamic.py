"""async fixture with a non-literal scope

cannot infer loop_scope for a dynamically scoped async fixture; set loop_scope explicitly
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.recipes.pytest_asyncio.facts import ModuleFacts, Site, async_fixtures
from fleetshift.recipes.pytest_asyncio.fixing import ReportFixture
from fleetshift.recipes.pytest_asyncio.needs import SCOPED_ASYNC_FIXTURE
from fleetshift.recipes.pytest_asyncio.rules import MIGRATE_023
from fleetshift.recipes.rule import HUMAN, rule

if TYPE_CHECKING:
    from fleetshift.recipes.pytest_asyncio.tree import FixturePlan


RULE = rule(__name__, __doc__, HUMAN, since="0.24", link=MIGRATE_023, order=7)
NEEDS = (("scope",), ("fixture",), (SCOPED_ASYNC_FIXTURE,))  # as fixture-loop-scope


def check(facts: ModuleFacts) -> Iterator[Site]:
    """Async fixtures whose scope is not a literal and that set no loop_scope."""
    for f in async_fixtures(facts):
        if f.has_scope and f.scope is None and not f.has_loop:
            yield Site(f.d.fn)


class Fix(ReportFixture):
    """Nothing to rewrite: the fixture is reported."""

    rule_id = RULE.id

    def reported(self, plan: FixturePlan) -> bool:
        return plan.dynamic
