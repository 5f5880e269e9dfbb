"""`reraise=True` + `raise TryAgain` in `except` re-raises the underlying error

with reraise=True, TryAgain raised inside an except block now surfaces the original exception
(tenacity>=9.2); update callers that catch TryAgain
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from fleetshift.recipes._ast import keyword
from fleetshift.recipes.rule import HUMAN, rule
from fleetshift.recipes.tenacity.resolve import Facts

RULE = rule(__name__, __doc__, HUMAN, since="9.2.1", link="https://github.com/jd/tenacity/pull/640", order=14)


def check(facts: Facts) -> Iterator[tuple[ast.AST, str]]:
    """`raise TryAgain` inside an `except` of a function retried with `reraise=True`."""
    if not facts.tenacity:
        return  # no tenacity name without tenacity written
    for fn in facts.nodes(ast.FunctionDef, ast.AsyncFunctionDef):
        assert isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
        dec = facts.retry_decorator(fn)
        reraise = keyword(dec, "reraise") if isinstance(dec, ast.Call) else None
        if reraise is None or not (isinstance(reraise.value, ast.Constant) and reraise.value.value is True):
            continue
        for handler in (n for n in ast.walk(fn) if isinstance(n, ast.ExceptHandler)):
            for node in ast.walk(handler):
                if isinstance(node, ast.Raise) and node.exc is not None:
                    exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
                    if facts.qual(exc) == "tenacity.TryAgain":
                        yield node, ""
