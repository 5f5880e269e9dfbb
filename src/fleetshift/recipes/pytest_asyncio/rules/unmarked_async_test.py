"""async test without an asyncio marker in strict mode

@pytest.mark.asyncio is added (pytest 8.3 skipped such a test; pytest >=8.4 fails it)
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.model import Finding, Severity
from fleetshift.recipes.pytest_asyncio.facts import ModuleFacts, Site, ast_marked, pytestmark_values
from fleetshift.recipes.pytest_asyncio.needs import UNMARKED_ASYNC_TEST
from fleetshift.recipes.pytest_asyncio.rules import CONCEPTS, MARK, OTHER_MARKS
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    import libcst as cst

    from fleetshift.recipes.pytest_asyncio.tree import FileFacts

RULE = rule(__name__, __doc__, AUTO, since="0.19", link=CONCEPTS, order=12)
NEEDS = (("async",), (UNMARKED_ASYNC_TEST,))  # an async def test... without the asyncio mark right above it


def check(facts: ModuleFacts) -> Iterator[Site]:
    """Async tests with no asyncio (or anyio/trio) marker of their own, their class's or their module's
    (informational: the mode is read from the service's config)."""
    if facts.module_marked:
        return
    for d in facts.defs:
        if not (d.is_test and isinstance(d.fn, ast.AsyncFunctionDef)):
            continue
        exprs = list(d.fn.decorator_list)
        if d.owner is not None:
            exprs += d.owner.decorator_list
            exprs.extend(pytestmark_values(d.owner.body))
        if not ast_marked(exprs, facts.imports, (MARK, *OTHER_MARKS)):
            yield Site(d.fn, f"async test {d.fn.name} has no asyncio marker (fails in strict mode)", info=True)


class Fix:
    """Add `@pytest.mark.asyncio` to an unmarked async test in strict mode (one the module or class does not
    cover, with no marker hook, outside anyio/trio services), and report the tests that now run."""

    def __init__(self, facts: FileFacts) -> None:
        self.facts = facts
        self.findings: list[Finding] = []
        self.needs: set[str] = set()
        self.newly_marked: list[str] = []

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        import libcst as cst

        from fleetshift.recipes.pytest_asyncio.tree import has_mark, mark, marker_dec

        facts, s = self.facts, self.facts.survey
        info = facts.funcs.get(original)
        if info is None or not info.is_test or updated.asynchronous is None:
            return updated
        decs = list(updated.decorators)
        if has_mark([d.decorator for d in decs], facts.imports, OTHER_MARKS):
            return updated
        if facts.container(info)[0]:  # the loop of a deleted override: event-loop-override marks these
            return updated
        if any(marker_dec(facts.imports, d) for d in decs) or s.mode != "strict":
            return updated
        if facts.module_marked or (info.cls is not None and info.cls.marked) or s.hook_marks:
            return updated
        if s.other_plugin:
            self.findings.append(
                facts.finding(
                    original,
                    RULE.id,
                    "async test without an asyncio marker in a service that also uses anyio/trio: add "
                    "@pytest.mark.asyncio if pytest-asyncio should run it",
                    Severity.HUMAN,
                    info.line,
                )
            )
            return updated
        if original.asynchronous is not None:  # not one just converted from a sync test
            self.newly_marked.append(updated.name.value)
        self.needs.add("pytest")
        return updated.with_changes(decorators=[cst.Decorator(mark()), *decs])

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        names = self.newly_marked
        if names:
            self.findings.append(
                self.facts.finding(
                    1,
                    RULE.id,
                    f"{len(names)} async test(s) had no asyncio marker in strict mode "
                    f"({', '.join(names[:5])}{'...' if len(names) > 5 else ''}); pytest 8.3 "
                    "skipped them, so they now run for the first time: check they pass",
                    Severity.ADVICE,
                )
            )
        return updated
