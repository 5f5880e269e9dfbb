"""`event_loop` override that cancels pending tasks at teardown (ignored by pytest-asyncio >=1.0)

deleted like a plain override: pytest-asyncio >=1.1 cancels a loop's pending tasks when its loop scope ends
(#200), which is what the override's teardown did; while the target admits 1.0.x it is left for a human
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.model import Severity
from fleetshift.recipes.pytest_asyncio.facts import ModuleFacts, Site
from fleetshift.recipes.pytest_asyncio.fixing import FileFix
from fleetshift.recipes.pytest_asyncio.needs import EVENT_LOOP
from fleetshift.recipes.pytest_asyncio.rules import CHANGELOG
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    import libcst as cst

RULE = rule(__name__, __doc__, AUTO, since="1.1.0", link=CHANGELOG, min_target="1.1.0", order=2)
NEEDS = (("event_loop", "name"), (EVENT_LOOP,))  # as event-loop-override


def check(facts: ModuleFacts) -> Iterator[Site]:
    """With the service known: the overrides the run deletes for their draining teardown."""
    for d in facts.defs:
        ov = facts.override(d) if d.fixture == "event_loop" else None
        if ov is not None and ov.action == "delete" and ov.drain:
            yield Site(d.fn, f"event_loop override {d.fn.name} draining pending tasks")


class Fix(FileFix):
    """Delete the override the survey judged deletable for its draining teardown, and say where the draining went."""

    def leave_FunctionDef(
        self, original: cst.FunctionDef, updated: cst.FunctionDef
    ) -> cst.FunctionDef | cst.RemovalSentinel:
        import libcst as cst

        facts = self.facts
        info = facts.funcs.get(original)
        if info is None or info.fixture != "event_loop":
            return updated
        ov = facts.override(info)
        if ov is None or ov.action != "delete" or not ov.drain:
            return updated
        self.removed = True
        self.findings.append(
            facts.finding(
                original,
                RULE.id,
                f"the deleted event_loop override {info.name} cancelled and awaited pending tasks at teardown; "
                "pytest-asyncio >=1.1 does that itself when the loop scope ends",
                Severity.ADVICE,
                info.line,
            )
        )
        return cst.RemoveFromParent()
