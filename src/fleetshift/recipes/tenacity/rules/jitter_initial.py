"""`wait_exponential_jitter(initial=)` is deprecated for `multiplier=`

rename initial= to multiplier= (only when the target is >=9.2; multiplier= does not exist before)
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.recipes._ast import keyword
from fleetshift.recipes.rule import AUTO, INFO, rule
from fleetshift.recipes.tenacity.resolve import Facts
from fleetshift.recipes.tenacity.rewrite import SiteFix, kwarg

if TYPE_CHECKING:
    import libcst as cst

RULE = rule(
    __name__,
    __doc__,
    AUTO,
    since="9.2.1",
    min_target="9.2.1",
    link="https://github.com/jd/tenacity/pull/629",
    order=15,
)
SITE_ACTION = INFO  # rewritten only for targets >=9.2.1: detection reports the sites as information

POSITIONAL = ("multiplier", "max", "exp_base", "jitter")


def check(facts: Facts) -> Iterator[tuple[ast.AST, str]]:
    """`wait_exponential_jitter` given `initial=` or a positional first argument."""
    if not facts.tenacity:
        return  # no tenacity name without tenacity written
    for node in facts.nodes(ast.Call):
        assert isinstance(node, ast.Call)
        if facts.qual(node.func) == "tenacity.wait_exponential_jitter":
            if keyword(node, "initial") is not None or node.args:
                yield node, ""


class Fix(SiteFix):
    """`initial=` -> `multiplier=`, positional arguments named."""

    def __init__(self, facts: Facts) -> None:
        super().__init__(facts, {facts.key(node): True for node, _ in facts.checked(check)})

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        import libcst as cst

        args = updated_node.args
        if not self.site(original_node) or any(a.star for a in args):
            return updated_node
        if any(a.keyword is not None and a.keyword.value == "multiplier" for a in args):
            return updated_node
        new_args = []
        for i, a in enumerate(args):
            if a.keyword is None and i < len(POSITIONAL):
                a = a.with_changes(keyword=cst.Name(POSITIONAL[i]), equal=kwarg("x", a.value).equal)
            elif a.keyword is not None and a.keyword.value == "initial":
                a = a.with_changes(keyword=cst.Name("multiplier"))
            new_args.append(a)
        return updated_node.with_changes(args=new_args)
