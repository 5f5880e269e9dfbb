"""positional indirect/ids/scope in parametrize

turned into keywords (pytest 9.2 makes them keyword-only: TypeError at collection)
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.recipes.pytest9.facts import Facts, Metadata, Site, is_parametrize
from fleetshift.recipes.pytest9.rules import PARAMETRIZE_KW
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    import libcst as cst

RULE = rule(__name__, __doc__, AUTO, since="9.2", order=12)


def check(facts: Facts) -> Iterator[Site]:
    """`parametrize(names, values, <indirect>, ...)` with more than two positional arguments."""
    for node in facts.of(ast.Call):
        if len(node.args) > 2 and is_parametrize(node, facts.imports):
            yield node, ""


class Fix:
    """The third to fifth positional arguments of `parametrize` get their keywords (indirect, ids, scope)."""

    METADATA_DEPENDENCIES = Metadata("PositionProvider")

    def __init__(self, facts: Facts) -> None:
        assert facts.code_imports is not None
        self.imports = facts.code_imports
        self.findings: list[tuple[int, str, str]] = []

    def leave_Call(self, original: cst.Call, call: cst.Call) -> cst.Call:
        import libcst as cst

        from fleetshift.recipes._pytest_config import syntax as pcs
        from fleetshift.recipes.pytest9.syntax import is_parametrize, line

        if not is_parametrize(call, self.imports):
            return call
        args = list(call.args)
        positional = [i for i, a in enumerate(args) if a.keyword is None]
        if any(a.star for a in args):
            if len(positional) > 2 or any(a.star == "*" for a in args):
                message = "parametrize gets *args; pass indirect/ids/scope as keywords (keyword-only from pytest 9.2)"
                self.findings.append((line(self, original), RULE.slug, message))
            return call
        for n, i in enumerate(positional[2:5]):
            name = PARAMETRIZE_KW[n]
            if pcs.kwarg(call, name) is not None:
                self.findings.append((line(self, original), RULE.slug, f"parametrize gets {name} twice"))
                return call
            args[i] = args[i].with_changes(keyword=cst.Name(name), equal=pcs.tight_equal())
        return call.with_changes(args=args) if len(positional) > 2 else call
