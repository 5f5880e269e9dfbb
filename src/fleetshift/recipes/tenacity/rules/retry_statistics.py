"""`f.retry.statistics` is empty on tenacity 8.5-9.1; read `f.statistics`

drop `.retry` before `.statistics` on tenacity-decorated functions
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.recipes.rule import AUTO, rule
from fleetshift.recipes.tenacity.resolve import Facts
from fleetshift.recipes.tenacity.rewrite import SiteFix

if TYPE_CHECKING:
    import libcst as cst

RULE = rule(__name__, __doc__, AUTO, since="8.5.0", link="https://github.com/jd/tenacity/pull/484", order=2)


def statistics_reads(facts: Facts) -> Iterator[tuple[ast.Attribute, str, str]]:
    """Every `x.retry.statistics` read (not on self/cls) with its receiver's text and what `x` is:
    'retried' (a tenacity-decorated function), 'elsewhere' (imported, judged when the service is known) or
    'unknown'."""
    if not facts.mentions("statistics"):
        return  # no `.statistics` read without it written
    for node in facts.nodes(ast.Attribute):
        assert isinstance(node, ast.Attribute)
        if (
            node.attr != "statistics"
            or not isinstance(node.value, ast.Attribute)
            or node.value.attr != "retry"
        ):
            continue
        recv = node.value.value
        if isinstance(recv, ast.Name) and recv.id in ("self", "cls"):
            continue
        if facts.is_retry_function(recv):
            kind = "retried"
        elif facts.index is None and facts.imported_from_elsewhere(recv):
            kind = "elsewhere"
        else:
            kind = "unknown"
        yield node, ast.unparse(recv), kind


def check(facts: Facts) -> Iterator[tuple[ast.AST, str]]:
    for node, text, kind in statistics_reads(facts):
        if kind == "retried":
            yield node, f"`{text}.retry.statistics` -> `{text}.statistics`"
        elif kind == "elsewhere":
            yield (
                node,
                f"`{text}.retry.statistics` -> `{text}.statistics` (when `{text}` is resolved to a "
                "tenacity-decorated function in the service)",
            )


class Fix(SiteFix):
    """`f.retry.statistics` -> `f.statistics` where the check found a retried function. Only an attribute spelling
    `statistics` (or a non-ASCII name the parser may read as it) can stand where a site is: no other one's position
    is asked (working out a node's position generates the code of its statement)."""

    def __init__(self, facts: Facts) -> None:
        super().__init__(
            facts, {facts.key(n): True for n, _, kind in statistics_reads(facts) if kind == "retried"}
        )

    def leave_Attribute(
        self, original_node: cst.Attribute, updated_node: cst.Attribute
    ) -> cst.BaseExpression:
        import libcst as cst

        attr = original_node.attr.value
        if attr != "statistics" and attr.isascii():
            return updated_node  # no site: its `ast` node reads `statistics` (NFKC of what is written)
        if self.site(original_node) and isinstance(updated_node.value, cst.Attribute):
            return updated_node.with_changes(value=updated_node.value.value)
        return updated_node
