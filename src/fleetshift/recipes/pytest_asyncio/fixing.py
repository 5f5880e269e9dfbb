"""What the rules' `Fix` classes share: the state every fix keeps, and the two kinds of fix that rewrite nothing
and only report (the sites a rule's `check` finds, the fixtures whose plan leaves them to a human).

No LibCST at import time: rule modules import this when a scan reads their data and `check`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar

from fleetshift.model import Finding
from fleetshift.recipes._ast import parse_tree

if TYPE_CHECKING:
    import libcst as cst

    from fleetshift.recipes.pytest_asyncio.facts import ModuleFacts, Site
    from fleetshift.recipes.pytest_asyncio.tree import FileFacts, FixturePlan


class FileFix:
    """A fix on one file: its facts, the findings it reports, the modules its new code imports (`needs`) and
    whether it deleted something whose imports may go (`removed`)."""

    def __init__(self, facts: FileFacts) -> None:
        self.facts = facts
        self.findings: list[Finding] = []
        self.needs: set[str] = set()
        self.removed = False


class ReportChecks(FileFix):
    """Nothing to rewrite: each site `sites` (the rule's `check`) finds in the file as it was is reported at its
    line."""

    rule_id: ClassVar[str]

    def sites(self, facts: ModuleFacts) -> Iterable[Site]:
        raise NotImplementedError

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        from fleetshift.recipes.base import SourceFile
        from fleetshift.recipes.pytest_asyncio.facts import module_facts

        facts = self.facts
        src = SourceFile(facts.path, facts.text, parse_tree(facts.text), facts.kind)
        for site in self.sites(module_facts(src)):
            line = site.node if isinstance(site.node, int) else getattr(site.node, "lineno", 0)
            self.findings.append(facts.finding(line, self.rule_id, site.detail))
        return updated


class ReportFixture(FileFix):
    """Nothing to rewrite: each async fixture whose plan (see `tree.fixture_plan`) is `reported` is reported."""

    rule_id: ClassVar[str]

    def reported(self, plan: FixturePlan) -> bool:
        raise NotImplementedError

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        from fleetshift.recipes.pytest_asyncio.tree import plan_of

        info, plan = plan_of(self.facts, original, updated)
        if info is not None and plan is not None and self.reported(plan):
            self.findings.append(self.facts.finding(original, self.rule_id, fallback=info.line))
        return updated
