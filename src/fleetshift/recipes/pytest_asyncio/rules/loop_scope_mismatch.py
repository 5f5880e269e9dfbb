"""tests widened to a shared loop use fixtures from elsewhere

tests here run in a wider loop but async fixtures from conftest default to a function loop; objects
bound to a loop (futures, locks, clients) will break — give those fixtures the same loop_scope
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fleetshift.model import Severity
from fleetshift.recipes.pytest_asyncio.fixing import FileFix
from fleetshift.recipes.pytest_asyncio.rules import CONCEPTS
from fleetshift.recipes.pytest_asyncio.survey import outside_fixtures
from fleetshift.recipes.rule import INFO, rule

if TYPE_CHECKING:
    import libcst as cst

RULE = rule(__name__, __doc__, INFO, since="1.0.0", link=CONCEPTS, order=17)


class Fix(FileFix):
    """Nothing to rewrite: where a deleted module or class override's tests use fixtures defined
    elsewhere, that is reported at the override."""

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        facts = self.facts
        for ov in facts.survey.overrides.values():
            if ov.path != facts.path or ov.action != "delete" or ov.loop not in ("module", "class"):
                continue
            outside = outside_fixtures(ov, facts.text)
            if not outside:
                continue
            where = f"class {ov.cls}" if ov.loop == "class" else "this module"
            self.findings.append(
                facts.finding(
                    ov.line,
                    RULE.id,
                    f"tests in {where} now run in a {ov.loop} loop (the deleted event_loop override) but use "
                    f"fixtures defined elsewhere ({', '.join(outside)}); async ones default to a function loop, so "
                    f'objects bound to a loop will break: give them loop_scope="{ov.loop}" or wider',
                    Severity.ADVICE,
                )
            )
        return updated
