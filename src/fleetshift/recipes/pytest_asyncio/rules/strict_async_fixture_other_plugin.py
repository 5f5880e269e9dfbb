"""async fixture in a service that also uses anyio/trio

the async fixture may belong to anyio/trio; mark it @pytest_asyncio.fixture if pytest-asyncio should run
it
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fleetshift.recipes.pytest_asyncio.fixing import ReportFixture
from fleetshift.recipes.pytest_asyncio.rules import CONFIG
from fleetshift.recipes.rule import HUMAN, rule

if TYPE_CHECKING:
    from fleetshift.recipes.pytest_asyncio.tree import FixturePlan


RULE = rule(__name__, __doc__, HUMAN, since="0.25", link=CONFIG, order=11)


class Fix(ReportFixture):
    """Nothing to rewrite: a fixture that would become `@pytest_asyncio.fixture` in such a service is reported."""

    rule_id = RULE.id

    def reported(self, plan: FixturePlan) -> bool:
        return plan.blocked
