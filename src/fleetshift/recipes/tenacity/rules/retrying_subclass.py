"""decorated calls run `self.copy()`, which calls `__init__` with the base keywords

since tenacity 8.4.2 decorated calls run self.copy(), which calls __init__ with only the base keywords
(plus name=, enabled= in 9.2); accept **kwargs and/or override copy()
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from fleetshift.recipes.rule import HUMAN, rule
from fleetshift.recipes.tenacity.resolve import Facts, norm

RULE = rule(__name__, __doc__, HUMAN, since="8.4.2", link="https://github.com/jd/tenacity/pull/479", order=4)

RETRYING_BASES = frozenset(
    f"tenacity.{name}"
    for name in (
        "Retrying", "AsyncRetrying", "BaseRetrying", "TornadoRetrying", "asyncio.AsyncRetrying",
        "tornadoweb.TornadoRetrying",
    )
)  # fmt: skip


def check(facts: Facts) -> Iterator[tuple[ast.AST, str]]:
    """A Retrying subclass that defines `__init__` or `copy`."""
    if not facts.tenacity:
        return  # no tenacity name without tenacity written
    for node in facts.nodes(ast.ClassDef):
        assert isinstance(node, ast.ClassDef)
        if not any(norm(facts.imports.qualname(b)) in RETRYING_BASES for b in node.bases):
            continue
        defined = [f.name for f in node.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))]
        if "__init__" in defined or "copy" in defined:
            yield (
                node,
                f"Retrying subclass {node.name}: since tenacity 8.4.2 decorated calls run self.copy(), "
                "which calls __init__ with only the base keywords (plus name=, enabled= in 9.2); accept "
                "**kwargs and/or override copy().",
            )
