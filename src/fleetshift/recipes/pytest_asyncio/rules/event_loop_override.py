"""custom `event_loop` fixture override (ignored by pytest-asyncio >=1.0)

a plain override is deleted: root-conftest session/module scope becomes the config defaults
asyncio_default_fixture_loop_scope/asyncio_default_test_loop_scope; a module or class override becomes
loop_scope on the asyncio marker and on the async fixtures defined beside it
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.recipes.pytest_asyncio.facts import ModuleFacts, Site
from fleetshift.recipes.pytest_asyncio.fixing import FileFix
from fleetshift.recipes.pytest_asyncio.needs import EVENT_LOOP
from fleetshift.recipes.pytest_asyncio.rules import OTHER_MARKS
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    import libcst as cst

RULE = rule(__name__, __doc__, AUTO, since="1.0.0", order=2)
NEEDS = (("event_loop", "name"), (EVENT_LOOP,))  # the fixture's name: its function's, or a name= string


def check(facts: ModuleFacts) -> Iterator[Site]:
    """Fixtures requested as `event_loop` (with the service known: the plain ones the run deletes)."""
    for d in facts.defs:
        if d.fixture == "event_loop":
            ov = facts.override(d)
            if facts.overrides is None or (ov is not None and ov.action == "delete" and not ov.drain):
                yield Site(d.fn, f"event_loop override {d.fn.name}")


class Fix(FileFix):
    """Delete a plain override; the tests of a deleted module or class override share its loop through
    `loop_scope` on their asyncio marker (the module's `pytestmark`, the class marker, or each test's own)."""

    def leave_FunctionDef(
        self, original: cst.FunctionDef, updated: cst.FunctionDef
    ) -> cst.FunctionDef | cst.RemovalSentinel:
        import libcst as cst

        from fleetshift.recipes.pytest_asyncio.tree import has_mark, mark, marker_dec, scoped

        facts = self.facts
        info = facts.funcs.get(original)
        if info is None:
            return updated
        if info.fixture == "event_loop":
            ov = facts.override(info)
            if ov is not None and ov.action == "delete" and not ov.drain:
                self.removed = True
                return cst.RemoveFromParent()
            return updated
        if not (info.is_test and updated.asynchronous is not None):
            return updated
        decs = list(updated.decorators)
        if has_mark([d.decorator for d in decs], facts.imports, OTHER_MARKS):
            return updated
        container, container_has_sync = facts.container(info)
        if not container:
            return updated
        own = [i for i, d in enumerate(decs) if marker_dec(facts.imports, d)]
        if own:
            new, finding = scoped(facts, decs[own[0]].decorator, container, info.line)
            self.findings += [finding] if finding else []
            decs[own[0]] = decs[own[0]].with_changes(decorator=new)
            return updated.with_changes(decorators=decs)
        if container_has_sync:
            self.needs.add("pytest")
            decs.insert(0, cst.Decorator(mark(container)))
            return updated.with_changes(decorators=decs)
        return updated  # the module pytestmark / class marker carries the loop scope

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        import libcst as cst

        from fleetshift.recipes.pytest_asyncio.tree import mark, marker_dec, scoped, tidy_class

        facts = self.facts
        ctx = facts.classes[original]
        line = ctx.line
        if ctx.loop and not ctx.has_sync_tests:
            decs = list(updated.decorators)
            for i, d in enumerate(decs):
                if marker_dec(facts.imports, d):
                    new, finding = scoped(facts, d.decorator, ctx.loop, line)
                    self.findings += [finding] if finding else []
                    decs[i] = d.with_changes(decorator=new)
                    break
            else:
                self.needs.add("pytest")
                decs.insert(0, cst.Decorator(mark(ctx.loop)))
            updated = updated.with_changes(decorators=decs)
        elif ctx.marked and facts.module_loop and not facts.module_sync_tests:
            decs = []
            for d in updated.decorators:
                if marker_dec(facts.imports, d):
                    new, finding = scoped(facts, d.decorator, facts.module_loop, line)
                    self.findings += [finding] if finding else []
                    d = d.with_changes(decorator=new)
                decs.append(d)
            updated = updated.with_changes(decorators=decs)
        return tidy_class(original, updated)

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        from fleetshift.recipes.pytest_asyncio.tree import module_marker

        facts = self.facts
        if facts.module_loop and facts.test_module and not facts.module_sync_tests:
            self.needs.add("pytest")
            updated, found = module_marker(facts, updated, facts.module_loop)
            self.findings += found
        return updated
