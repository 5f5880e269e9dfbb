"""Small `ast` helpers of the analysis: parent links, callee names, literal None, except-handler types."""

from __future__ import annotations

import ast


def parents(tree: ast.AST) -> dict[int, ast.AST]:
    """Each node's parent, by the child's id."""
    out: dict[int, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            out[id(child)] = node
    return out


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
