"""async fixture in a service that also uses anyio/trio

the async fixture may belong to anyio/trio; mark it @pytest_asyncio.fixture if pytest-asyncio should run
it
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fleetshift.model import Finding
from fleetshift.recipes.pytest_asyncio.rules import CONFIG
from fleetshift.recipes.rule import HUMAN, rule

if TYPE_CHECKING:
    import libcst as cst

    from fleetshift.recipes.pytest_asyncio.tree import FileFacts

RULE = rule(__name__, __doc__, HUMAN, since="0.25", link=CONFIG, order=11)


class Fix:
    """Nothing to rewrite: a fixture that would become `@pytest_asyncio.fixture` in such a service is reported."""

    def __init__(self, facts: FileFacts) -> None:
        self.facts = facts
        self.findings: list[Finding] = []

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        from fleetshift.recipes.pytest_asyncio.tree import fixture_plan

        info = self.facts.funcs.get(original)
        plan = fixture_plan(self.facts, info, updated) if info is not None else None
        if plan is not None and plan.blocked and info is not None:
            self.findings.append(self.facts.finding(original, RULE.id, fallback=info.line))
        return updated
