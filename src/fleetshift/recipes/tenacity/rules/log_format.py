"""`after_log`/`before_sleep_log` format seconds with `%.3g`

after_log gets sec_format="%0.3f" (valid on 8.x too); before_sleep_log gets sec_format="%s" when the
target is >=9.1.3
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

from fleetshift.recipes._ast import keyword
from fleetshift.recipes.rule import AUTO, INFO, Rule, rule
from fleetshift.recipes.tenacity.resolve import Facts
from fleetshift.recipes.tenacity.rewrite import SiteFix, append_arg, kwarg

if TYPE_CHECKING:
    import libcst as cst

RULE = rule(__name__, __doc__, AUTO, since="9.1.3", link="https://github.com/jd/tenacity/pull/489", order=12)
SITE_ACTION = INFO  # the log text changes, nothing breaks: detection reports the sites as information

# per call: the sec_format that keeps the 8.x text, how many positional arguments reach sec_format, the text
# that changes, and the gate of that half of the fix (before_sleep_log(sec_format=) exists from 9.1.3 only)
CALLS: dict[str, tuple[str, int, str, Rule | None]] = {
    "tenacity.after_log": ('"%0.3f"', 3, 'after_log text: "after 0.000(s)" -> "after 9.12e-06(s)"', None),
    "tenacity.before_sleep_log": (
        '"%s"',
        4,
        'before_sleep_log text: "in 3.0 seconds" -> "in 3 seconds"',
        replace(RULE, min_target=RULE.since),
    ),
}


def check(facts: Facts) -> Iterator[tuple[ast.AST, str]]:
    """`after_log`/`before_sleep_log` calls that leave sec_format to the library's default."""
    if not facts.tenacity:
        return  # no tenacity name without tenacity written
    for node in facts.nodes(ast.Call):
        assert isinstance(node, ast.Call)
        found = CALLS.get(facts.qual(node.func) or "")
        if found and keyword(node, "sec_format") is None and len(node.args) < found[1]:
            yield node, found[2]


class Fix(SiteFix):
    """Pin the 8.x sec_format where its gate lets it (judged on the campaign's scope, as data)."""

    def __init__(self, facts: Facts) -> None:
        sites = {}
        for node, _ in facts.checked(check):
            value, _, _, gate = CALLS[facts.qual(node.func) or ""]  # type: ignore[attr-defined]
            if gate is None or (facts.scope is not None and gate.applies(facts.scope)):
                sites[facts.key(node)] = value
        super().__init__(facts, sites)

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        import libcst as cst

        value = self.site(original_node)
        if value is None or not updated_node.args or any(a.star for a in updated_node.args):
            return updated_node
        return append_arg(updated_node, kwarg("sec_format", cst.SimpleString(value)))
