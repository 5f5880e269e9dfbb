"""A fix mixin for rewrites made at module level only (imports LibCST nowhere, so rule modules may use it)."""

from __future__ import annotations

from typing import Any


class ModuleLevel:
    """Counts how deep the walk is inside functions and classes: `self.depth` is 0 at module level.

    Mixed into a rule's `Fix` (or a LibCST transformer) ahead of any base class that has these methods.
    """

    depth = 0

    def visit_FunctionDef(self, node: Any) -> None:
        self.depth += 1

    def leave_FunctionDef(self, original: Any, updated: Any) -> Any:
        self.depth -= 1
        return updated

    visit_ClassDef = visit_FunctionDef
    leave_ClassDef = leave_FunctionDef
