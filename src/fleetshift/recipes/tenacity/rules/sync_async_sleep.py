"""a sync function with an async `sleep=` now returns a coroutine

from tenacity 9.1.3 a sync function with an async sleep= returns a coroutine; make it async (and await
callers) or use a sync sleep
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from fleetshift.recipes._ast import keyword
from fleetshift.recipes.rule import HUMAN, rule
from fleetshift.recipes.tenacity.resolve import Facts

RULE = rule(__name__, __doc__, HUMAN, since="9.1.3", link="https://github.com/jd/tenacity/pull/551", order=11)

ASYNC_SLEEPS = frozenset({"asyncio.sleep", "trio.sleep", "anyio.sleep"})


def check(facts: Facts) -> Iterator[tuple[ast.AST, str]]:
    """A plain `def` whose retry decorator is given an async sleep."""
    if not facts.tenacity:
        return  # no tenacity name without tenacity written
    for fn in facts.nodes(ast.FunctionDef):
        assert isinstance(fn, ast.FunctionDef)
        dec = facts.retry_decorator(fn)
        sleep = keyword(dec, "sleep") if isinstance(dec, ast.Call) else None
        if sleep is not None and (facts.qual(sleep.value) in ASYNC_SLEEPS or facts.is_async_def(sleep.value)):
            yield (
                fn,
                f"sync function {fn.name} uses async sleep=; from tenacity 9.1.3 it returns a coroutine. Make "
                f"{fn.name} async (and await callers) or use a sync sleep.",
            )
