"""Small `ast` helpers of the analysis: callee names, literal None, except-handler types."""

from __future__ import annotations

import ast


def callee_name(func: ast.AST) -> str | None:
    """`f` for `f(...)` and `x.f(...)`."""
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def const_none(node: ast.AST | None) -> bool:
    """Whether `node` is the literal None."""
    return isinstance(node, ast.Constant) and node.value is None


def handler_types(handler: ast.ExceptHandler) -> list[ast.expr]:
    """The exception classes an `except` clause names (empty for a bare `except:`)."""
    if handler.type is None:
        return []
    return list(handler.type.elts) if isinstance(handler.type, ast.Tuple) else [handler.type]
