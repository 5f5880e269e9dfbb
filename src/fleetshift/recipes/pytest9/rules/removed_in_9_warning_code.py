"""PytestRemovedIn9Warning used in code

pytest.PytestRemovedIn9Warning does not exist from pytest 9.1; remove this reference
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.recipes.pytest9.facts import Facts, RuleFix, Site
from fleetshift.recipes.rule import HUMAN, rule

if TYPE_CHECKING:
    import libcst as cst

RULE = rule(__name__, __doc__, HUMAN, since="9.1", order=5)
NEEDS = (("PytestRemovedIn9Warning",),)


def check(facts: Facts) -> Iterator[Site]:
    """`pytest.PytestRemovedIn9Warning` (however pytest is imported)."""
    if not facts.names("PytestRemovedIn9Warning"):
        return
    for node in facts.of(ast.Attribute):
        if node.attr == "PytestRemovedIn9Warning" and facts.imports.qualname(node) == "pytest.PytestRemovedIn9Warning":
            yield node, ""


class Fix(RuleFix):
    """Nothing to rewrite: after the other fixes, report each line that still names the warning (an imported
    name, a string) that `check` did not."""

    def __init__(self, facts: Facts) -> None:
        super().__init__(facts)
        self.reported = {getattr(at, "lineno", at) for at, *_ in check(facts)}

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        if self.facts.text is not None and "PytestRemovedIn9Warning" not in self.facts.text:
            return updated  # no fix writes the name: a module that does not spell it has no line naming it
        for n, text in enumerate(updated.code.splitlines(), 1):
            if (
                "PytestRemovedIn9Warning" in text
                and n not in self.reported
                and not text.lstrip().startswith("#")
            ):
                self.findings.append((n, RULE.slug, ""))
        return updated
