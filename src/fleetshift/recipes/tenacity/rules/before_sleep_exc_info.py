"""`before_sleep_log(exc_info=True)` puts the traceback in the message

tenacity>=9.2 no longer passes exc_info to the logger; tracebacks are embedded in the message text
(structured logging, Sentry and caplog .exc_info assertions change)
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from fleetshift.recipes._ast import keyword
from fleetshift.recipes.rule import HUMAN, rule
from fleetshift.recipes.tenacity.resolve import Facts

RULE = rule(__name__, __doc__, HUMAN, since="9.2.1", link="https://github.com/jd/tenacity/pull/622", order=13)


def check(facts: Facts) -> Iterator[tuple[ast.AST, str]]:
    """`before_sleep_log(...)` given an `exc_info` that is not a false constant."""
    if not facts.tenacity:
        return  # no tenacity name without tenacity written
    for node in facts.nodes(ast.Call):
        assert isinstance(node, ast.Call)
        if facts.qual(node.func) != "tenacity.before_sleep_log":
            continue
        exc = keyword(node, "exc_info")
        value = exc.value if exc is not None else (node.args[2] if len(node.args) >= 3 else None)
        if value is not None and not (isinstance(value, ast.Constant) and not value.value):
            yield node, ""
