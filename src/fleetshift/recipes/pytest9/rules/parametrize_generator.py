"""generator expression as parametrize argvalues

turned into a list comprehension (non-Collection iterables are deprecated in 9.1)
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.recipes.pytest9.facts import Facts, Site, is_parametrize
from fleetshift.recipes.pytest9.rules import DEPRECATIONS
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    import libcst as cst

RULE = rule(__name__, __doc__, AUTO, since="9.1", link=DEPRECATIONS, order=13)


def check(facts: Facts) -> Iterator[Site]:
    """`parametrize(names, (x for x in ...))`."""
    for node in facts.of(ast.Call):
        if (
            len(node.args) > 1
            and isinstance(node.args[1], ast.GeneratorExp)
            and is_parametrize(node, facts.imports)
        ):
            yield node, ""


class Fix:
    """A generator expression given as `parametrize` argvalues becomes a list comprehension."""

    def __init__(self, facts: Facts) -> None:
        assert facts.code_imports is not None
        self.imports = facts.code_imports

    def leave_Call(self, original: cst.Call, call: cst.Call) -> cst.Call:
        import libcst as cst

        from fleetshift.recipes.pytest9.syntax import is_parametrize

        if not is_parametrize(call, self.imports) or any(a.star for a in call.args):
            return call
        positional = [i for i, a in enumerate(call.args) if a.keyword is None]
        if len(positional) < 2 or not isinstance(values := call.args[positional[1]].value, cst.GeneratorExp):
            return call
        args = list(call.args)
        args[positional[1]] = args[positional[1]].with_changes(
            value=cst.ListComp(
                values.elt, values.for_in, lbracket=cst.LeftSquareBracket(), rbracket=cst.RightSquareBracket()
            )
        )
        return call.with_changes(args=args)
