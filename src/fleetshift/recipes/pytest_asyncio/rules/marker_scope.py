"""`scope=` on the asyncio marker

renamed to loop_scope= (scope= is deprecated and an error under filterwarnings=error)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.model import Severity
from fleetshift.recipes._ast import keyword
from fleetshift.recipes.pytest_asyncio.facts import ModuleFacts, Site
from fleetshift.recipes.pytest_asyncio.fixing import FileFix
from fleetshift.recipes.pytest_asyncio.needs import ASYNCIO_ALIAS, ASYNCIO_CALL
from fleetshift.recipes.pytest_asyncio.rules import MARK, MIGRATE_023
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    import libcst as cst

RULE = rule(__name__, __doc__, AUTO, since="0.24", link=MIGRATE_023, order=5)
NEEDS = (("scope",), (ASYNCIO_CALL, ASYNCIO_ALIAS))  # the mark called with scope=


def check(facts: ModuleFacts) -> Iterator[Site]:
    """`pytest.mark.asyncio(scope=...)`."""
    if not facts.names("scope"):
        return
    for call in facts.calls_near("scope"):  # the keyword stands in the call
        if facts.imports.qualname(call.func) == MARK and keyword(call, "scope") is not None:
            yield Site(call)


class Fix(FileFix):
    """`scope=` becomes `loop_scope=`; a marker with both is reported."""

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        import libcst as cst

        from fleetshift.recipes._pytest_config import syntax as pcs

        if self.facts.imports.qualname(updated.func) != MARK:
            return updated
        scope = pcs.kwarg(updated, "scope")
        if scope is None:
            return updated
        if pcs.kwarg(updated, "loop_scope") is not None:
            self.findings.append(
                self.facts.finding(
                    original,
                    RULE.id,
                    "the asyncio marker has both scope= and loop_scope= (a UsageError); keep only loop_scope=",
                    Severity.HUMAN,
                )
            )
            return updated
        args = [a.with_changes(keyword=cst.Name("loop_scope")) if a is scope else a for a in updated.args]
        return updated.with_changes(args=args)
