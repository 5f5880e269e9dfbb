"""The LibCST side of `_ast.Imports`: what a local name of a LibCST tree refers to.

A module's imports are read once, on `ast`, by `_ast.Imports` (every import statement, at any depth); a
rewriter resolves the LibCST nodes it edits through the same names, so `check` (on `ast`) and the fix (on
LibCST) never disagree on what `mark.asyncio` or `InfluxDBClient` stands for.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from keyword import iskeyword

import libcst as cst
from libcst.helpers import get_full_name_for_node


class Imports:
    """Local names bound by a module's imports (as `_ast.Imports` read them) -> the dotted names they stand for.

    `qualname(node)` resolves a LibCST Name/Attribute chain (or the callee of a Call) through that map:
    `mark.asyncio` -> `pytest.mark.asyncio` after `from pytest import mark`.
    """

    def __init__(self, names: Mapping[str, str]) -> None:
        self.names: dict[str, str] = dict(names)  # a copy: a rewriter may add the names its new code binds

    def qualname(self, node: cst.CSTNode) -> str | None:
        """The dotted name a Name/Attribute chain refers to through the imports, or None."""
        full = get_full_name_for_node(node)
        if not full:
            return None
        head, _, rest = full.partition(".")
        if head not in self.names:
            return None
        base = self.names[head]
        return f"{base}.{rest}" if rest else base


_PLAIN_STRING = re.compile(r"\"[^\"\\\r\n]*\"|'[^'\\\r\n]*'")


def call(func: str, arg: str) -> cst.BaseExpression:
    """`cst.parse_expression(f"{func}({arg})")`, built without the parser when `func` is a dotted name and `arg` a text
    `expression` builds (the parser's nodes, field for field); anything else is parsed."""
    node, value = _built(func), _built(arg)
    if isinstance(node, (cst.Name, cst.Attribute)) and value is not None:
        return cst.Call(func=node, args=[cst.Arg(value)])
    return cst.parse_expression(f"{func}({arg})")


def expression(code: str) -> cst.BaseExpression:
    """`cst.parse_expression(code)`, built without the parser when `code` is a name, a dotted name (ASCII, no keyword)
    or a one-line string literal without prefix or escapes: the nodes the parser gives for it, field for field. A
    rewrite writes many of these (a receiver, a module, a key) for each file; anything else is parsed."""
    built = _built(code)
    return built if built is not None else cst.parse_expression(code)


def _built(code: str) -> cst.BaseExpression | None:
    if code.isascii():
        parts = code.split(".")
        if all(p.isidentifier() and not iskeyword(p) for p in parts):
            node: cst.BaseExpression = cst.Name(parts[0])
            for part in parts[1:]:
                node = cst.Attribute(value=node, attr=cst.Name(part))
            return node
        if _PLAIN_STRING.fullmatch(code):
            return cst.SimpleString(code)
    return None
