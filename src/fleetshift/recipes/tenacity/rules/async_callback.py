"""async callbacks are awaited under AsyncRetrying

async callback is now awaited by tenacity (>=8.3); remove manual awaiting of the result
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from fleetshift.recipes._ast import dotted, keyword
from fleetshift.recipes.rule import HUMAN, rule
from fleetshift.recipes.tenacity.resolve import Facts

RULE = rule(__name__, __doc__, HUMAN, since="8.3.0", link="https://github.com/jd/tenacity/pull/437", order=6)

CALLBACK_KEYWORDS = ("before", "after", "before_sleep", "retry_error_callback", "retry")


def check(facts: Facts) -> Iterator[tuple[ast.AST, str]]:
    """`async def` callbacks given to a retry call, and `iscoroutine` workarounds in modules using tenacity."""
    if not facts.may_retry:
        return  # no retry call, and no tenacity use, without their names written
    uses_tenacity = facts.uses_tenacity
    for node in facts.nodes(ast.Call):
        assert isinstance(node, ast.Call)
        if facts.is_retry_call(node):
            for name in CALLBACK_KEYWORDS:
                kw = keyword(node, name)
                if kw is not None and facts.is_async_def(kw.value):
                    yield (
                        kw.value,
                        f"async callback {ast.unparse(kw.value)} ({name}=) is now awaited by tenacity (>=8.3); "
                        "remove manual awaiting of the result.",
                    )
        elif uses_tenacity and dotted(node.func) in ("inspect.iscoroutine", "asyncio.iscoroutine"):
            yield (
                node,
                "manual awaiting of a tenacity result: async callbacks are awaited by tenacity since 8.3; remove the "
                "workaround.",
            )
