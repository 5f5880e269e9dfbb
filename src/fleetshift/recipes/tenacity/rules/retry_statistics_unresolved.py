"""`x.retry.statistics` on something not known to be a retried function

if it is a tenacity-decorated function, read `.statistics` instead of `.retry.statistics`
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from fleetshift.recipes.rule import HUMAN, rule
from fleetshift.recipes.tenacity.resolve import Facts
from fleetshift.recipes.tenacity.rules.retry_statistics import statistics_reads

RULE = rule(__name__, __doc__, HUMAN, since="8.5.0", link="https://github.com/jd/tenacity/pull/484", order=3)


def check(facts: Facts) -> Iterator[tuple[ast.AST, str]]:
    for node, text, kind in statistics_reads(facts):
        if kind == "unknown":
            yield (
                node,
                f"could not tell whether `{text}` is a tenacity-decorated function; if it is, read "
                f"`{text}.statistics` (`.retry.statistics` is empty on tenacity 8.5-9.1)",
            )
