"""`event_loop` override that cannot be translated

this custom event_loop override is ignored by pytest-asyncio >=1.0 (tests and fixtures then silently run
in different loops); port it to loop_scope markers/config defaults, and a custom loop to
pytest_asyncio_loop_factories (pytest-asyncio >=1.4) or an event_loop_policy fixture (1.3)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.recipes.pytest_asyncio.facts import ModuleFacts, Site
from fleetshift.recipes.pytest_asyncio.fixing import FileFix
from fleetshift.recipes.pytest_asyncio.needs import EVENT_LOOP
from fleetshift.recipes.pytest_asyncio.survey import Override
from fleetshift.recipes.rule import HUMAN, rule

if TYPE_CHECKING:
    import libcst as cst

RULE = rule(__name__, __doc__, HUMAN, since="1.0.0", order=3)
NEEDS = (("event_loop", "name"), (EVENT_LOOP,))  # as event-loop-override


def message(ov: Override | None) -> str:
    """Why an override is left for a human, and what to do with it."""
    if ov is None:
        return RULE.fix
    if not ov.plain:
        why = "its body does more than create, yield and close a default asyncio loop"
    elif ov.where == "conftest":
        why = f"it is a {ov.scope}-scoped override in a conftest.py below the service root (package level)"
    elif ov.where == "other":
        why = "it is defined outside conftest.py and test modules"
    else:
        why = f"its scope ({ov.scope}) at this place has no direct loop_scope equivalent"
    return (
        f"custom event_loop override is ignored by pytest-asyncio >=1.0 ({why}); port it to loop_scope "
        "(markers on every test module it served, or the asyncio_default_*_loop_scope config keys) and a "
        "custom loop to pytest_asyncio_loop_factories (>=1.4)"
    )


def check(facts: ModuleFacts) -> Iterator[Site]:
    """With the service known: the overrides the run leaves for a human."""
    for d in facts.defs:
        ov = facts.override(d) if d.fixture == "event_loop" else None
        if ov is not None and ov.action != "delete":
            yield Site(d.fn, message(ov))


class Fix(FileFix):
    """Nothing to rewrite: an override the survey did not judge deletable is reported."""

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        facts = self.facts
        info = facts.funcs.get(original)
        if info is None or info.fixture != "event_loop":
            return updated
        ov = facts.override(info)
        if ov is None or ov.action != "delete":
            self.findings.append(facts.finding(original, RULE.id, message(ov), fallback=info.line))
        return updated
