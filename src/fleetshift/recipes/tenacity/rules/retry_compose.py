"""`retry_strategy | plain_function` raises AttributeError on 8.4-9.1.4

rewrite to retry_any(...) / retry_all(...), valid on every version
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.recipes.rule import AUTO, rule
from fleetshift.recipes.tenacity.resolve import Facts, compositions, norm
from fleetshift.recipes.tenacity.rewrite import SiteFix, add_tenacity_names, comma_separated

if TYPE_CHECKING:
    import libcst as cst

RULE = rule(__name__, __doc__, AUTO, since="8.4.0", link="https://github.com/jd/tenacity/pull/606", order=8)


def check(facts: Facts) -> Iterator[tuple[ast.AST, str]]:
    for node in compositions(facts, "auto"):
        yield node, f"`{ast.unparse(node)}` -> retry_any/retry_all"


def combinator(facts: Facts, node: ast.BinOp) -> tuple[str, str | None]:
    """The combinator replacing `node` and how to spell it here: a local name, `<module alias>.<name>`, or None
    when the name is taken by something else (then the composition is left for a person)."""
    name = "retry_any" if isinstance(node.op, ast.BitOr) else "retry_all"
    if norm(facts.imports.names.get(name)) == f"tenacity.{name}":
        return name, name
    for operand in ast.walk(node):
        if isinstance(operand, ast.Call) and isinstance(operand.func, ast.Attribute):
            if facts.imports.qualname(operand.func.value) == "tenacity":
                return name, f"{ast.unparse(operand.func.value)}.{name}"
    return name, None if name in facts.bindings else ""


class Fix(SiteFix):
    """`a | f` -> `retry_any(a, f)`, `a & f` -> `retry_all(a, f)`, importing the combinator when needed."""

    def __init__(self, facts: Facts) -> None:
        super().__init__(
            facts, {facts.key(n): combinator(facts, n) for n in compositions(facts, "auto")}
        )
        self.needed: set[str] = set()

    def leave_BinaryOperation(
        self, original_node: cst.BinaryOperation, updated_node: cst.BinaryOperation
    ) -> cst.BaseExpression:
        import libcst as cst

        found = self.site(original_node)
        if found is None or found[1] is None:
            return updated_node
        name, spelled = found
        op = type(updated_node.operator)
        operands: list[cst.BaseExpression] = []
        node: cst.BaseExpression = updated_node
        while isinstance(node, cst.BinaryOperation) and type(node.operator) is op:
            operands.append(node.right)
            node = node.left
        operands.append(node)
        if not spelled:
            self.needed.add(name)
        args = comma_separated([cst.Arg(value=o) for o in reversed(operands)])
        func = cst.parse_expression(spelled or name)
        return cst.Call(func=func, args=args, lpar=updated_node.lpar, rpar=updated_node.rpar)

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        return add_tenacity_names(updated_node, sorted(self.needed)) if self.needed else updated_node
