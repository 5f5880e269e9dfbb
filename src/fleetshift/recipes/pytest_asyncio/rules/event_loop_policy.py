"""`event_loop_policy` fixture override (deprecated in 1.4)

overriding event_loop_policy warns from pytest-asyncio 1.4 (an error under filterwarnings=error); use
the pytest_asyncio_loop_factories(config, item) hook once pinned to >=1.4 (the hook name is rejected by
1.3)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.recipes.pytest_asyncio.facts import ModuleFacts, Site
from fleetshift.recipes.pytest_asyncio.fixing import FileFix
from fleetshift.recipes.pytest_asyncio.needs import EVENT_LOOP_POLICY
from fleetshift.recipes.pytest_asyncio.rules import CHANGELOG
from fleetshift.recipes.rule import HUMAN, rule

if TYPE_CHECKING:
    import libcst as cst

RULE = rule(__name__, __doc__, HUMAN, since="1.4.0", link=CHANGELOG, order=4)
NEEDS = (("event_loop_policy", "name"), (EVENT_LOOP_POLICY,))  # the fixture's name: its function's, or a name= string


def check(facts: ModuleFacts) -> Iterator[Site]:
    """Fixtures requested as `event_loop_policy`."""
    for d in facts.defs:
        if d.fixture == "event_loop_policy":
            yield Site(d.fn)


class Fix(FileFix):
    """Delete an override that returns the default policy (what pytest-asyncio gives anyway); report the rest."""

    def leave_FunctionDef(
        self, original: cst.FunctionDef, updated: cst.FunctionDef
    ) -> cst.FunctionDef | cst.RemovalSentinel:
        import libcst as cst

        info = self.facts.funcs.get(original)
        if info is None or info.fixture != "event_loop_policy":
            return updated
        if self._default_policy(updated):
            self.removed = True
            return cst.RemoveFromParent()
        self.findings.append(self.facts.finding(original, RULE.id, fallback=info.line))
        return updated

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        from fleetshift.recipes.pytest_asyncio.tree import tidy_class

        return tidy_class(original, updated)

    def _default_policy(self, fn: cst.FunctionDef) -> bool:
        import libcst as cst

        from fleetshift.recipes.pytest_asyncio.event_loop import param_names

        if param_names(fn) or not isinstance(fn.body, cst.IndentedBlock):
            return False
        stmts = [
            s
            for s in fn.body.body
            if not (
                isinstance(s, cst.SimpleStatementLine)
                and isinstance(s.body[0], cst.Expr)
                and isinstance(s.body[0].value, cst.SimpleString)
            )
        ]
        if len(stmts) != 1 or not isinstance(stmts[0], cst.SimpleStatementLine):
            return False
        ret = stmts[0].body[0]
        return (
            isinstance(ret, cst.Return)
            and isinstance(ret.value, cst.Call)
            and not ret.value.args
            and self.facts.imports.qualname(ret.value.func) == "asyncio.DefaultEventLoopPolicy"
        )
