"""The LibCST side of `_ast.Imports`: what a local name of a LibCST tree refers to.

A module's imports are read once, on `ast`, by `_ast.Imports` (every import statement, at any depth); a
rewriter resolves the LibCST nodes it edits through the same names, so `check` (on `ast`) and the fix (on
LibCST) never disagree on what `mark.asyncio` or `InfluxDBClient` stands for.
"""

from __future__ import annotations

from collections.abc import Mapping

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
