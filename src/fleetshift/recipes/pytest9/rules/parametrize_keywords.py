"""positional indirect/ids/scope in parametrize

turned into keywords (pytest 9.2 makes them keyword-only: TypeError at collection)
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator
from typing import TYPE_CHECKING

from fleetshift.model import Action
from fleetshift.recipes.pytest9.facts import Facts, Metadata, RuleFix, Site
from fleetshift.recipes.pytest9.needs import ArgumentsNeed
from fleetshift.recipes.pytest9.rules import PARAMETRIZE_KW
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    import libcst as cst

RULE = rule(__name__, __doc__, AUTO, since="9.2", order=12)
# a call with more than two positional arguments, *args or **kwargs (see `verdict`)
NEEDS = ((ArgumentsNeed(lambda a: len(a.positional) > 2 or a.starred),),)


def verdict(positional: int, star: bool, double_star: bool, keywords: Collection[str]) -> str | None:
    """What the rule does to a `parametrize` call, judged once for the check and the fix from its arguments
    (`positional`: those without a keyword, `*args` and `**kwargs` included): "" rewrite, a message when it
    only reports the call, None when there is nothing to do."""
    if star or double_star:
        if positional > 2 or star:
            return "parametrize gets *args; pass indirect/ids/scope as keywords (keyword-only from pytest 9.2)"
        return None
    if positional <= 2:
        return None
    for name in PARAMETRIZE_KW[: positional - 2]:
        if name in keywords:
            return f"parametrize gets {name} twice"
    return ""


def check(facts: Facts) -> Iterator[Site]:
    """`parametrize(names, values, <indirect>, ...)` with more than two positional arguments; a call with
    `*args` or one giving a keyword twice is a site the run reports, not one it rewrites."""
    for node in facts.parametrize_calls:
        double = sum(1 for k in node.keywords if k.arg is None)
        found = verdict(
            len(node.args) + double,
            any(isinstance(a, ast.Starred) for a in node.args),
            bool(double),
            {k.arg for k in node.keywords if k.arg},
        )
        if found == "":
            yield node, ""
        elif found is not None:
            yield node, found, Action.HUMAN


class Fix(RuleFix):
    """The third to fifth positional arguments of `parametrize` get their keywords (indirect, ids, scope)."""

    METADATA_DEPENDENCIES = Metadata("PositionProvider")

    def __init__(self, facts: Facts) -> None:
        super().__init__(facts)
        # a line is asked only of a call the rule reports: the fix judges each call as `check` does, and knows
        # the same calls but `metafunc.<attr>.parametrize(...)` (positions kept wherever `metafunc` may stand)
        if not facts.names("parametrize") or not (facts.names("metafunc") or any(site[1] for site in check(facts))):
            self.asks_no_metadata()

    def leave_Call(self, original: cst.Call, call: cst.Call) -> cst.Call:
        import libcst as cst

        from fleetshift.recipes._pytest_config import syntax as pcs
        from fleetshift.recipes.pytest9.syntax import is_parametrize, line

        if not is_parametrize(call, self.imports):
            return call
        args = list(call.args)
        positional = [i for i, a in enumerate(args) if a.keyword is None]
        found = verdict(
            len(positional),
            any(a.star == "*" for a in args),
            any(a.star == "**" for a in args),
            {a.keyword.value for a in args if a.keyword is not None},
        )
        if found:
            self.findings.append((line(self, original), RULE.slug, found))
        if found != "":
            return call
        for n, i in enumerate(positional[2:5]):
            args[i] = args[i].with_changes(keyword=cst.Name(PARAMETRIZE_KW[n]), equal=pcs.tight_equal())
        return call.with_changes(args=args)
