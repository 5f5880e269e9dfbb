"""One LibCST walk for many rules: the fixes of a recipe's rule modules applied together.

A rule module's fix is a plain class (no LibCST base class, so importing the rule module does not import
LibCST; each method imports `libcst` itself) with `visit_<Node>` and `leave_<Node>` methods, the names
LibCST's own transformers use:

    class Fix:
        '''rename initial= to multiplier= in wait_exponential_jitter(...)'''

        def __init__(self, facts: Facts) -> None:
            self.facts = facts

        def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
            import libcst as cst
            ...

`apply(module, fixes)` walks the module once: every `visit_<Node>` of every fix sees the node on the way
down (its return value is ignored: children are always visited, since other fixes may need them), and on the
way up each fix's `leave_<Node>` gets the node as the fixes before it left it. A fix returning a removal or
a `FlattenSentinel` ends the chain for that node. A fix that needs LibCST metadata lists its providers in
`METADATA_DEPENDENCIES` and calls `self.get_metadata(provider, node)`, which `apply` gives it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import libcst as cst


class _Combined(cst.CSTTransformer):
    def __init__(self, fixes: Sequence[object]) -> None:
        super().__init__()
        self.fixes = list(fixes)
        self._visits: dict[str, list[Callable[[Any], object]]] = {}
        self._leaves: dict[str, list[Callable[[Any, Any], Any]]] = {}
        for fix in self.fixes:
            if getattr(fix, "METADATA_DEPENDENCIES", ()):
                fix.get_metadata = self.get_metadata  # type: ignore[attr-defined]
            for name in dir(fix):
                if name.startswith("visit_"):
                    self._visits.setdefault(name[6:], []).append(getattr(fix, name))
                elif name.startswith("leave_"):
                    self._leaves.setdefault(name[6:], []).append(getattr(fix, name))

    def on_visit(self, node: cst.CSTNode) -> bool:
        for visit in self._visits.get(type(node).__name__, ()):
            visit(node)
        return True

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> Any:
        updated: Any = updated_node
        for leave in self._leaves.get(type(original_node).__name__, ()):
            updated = leave(original_node, updated)
            if not isinstance(updated, cst.CSTNode):
                break  # removed or flattened: later fixes have no single node to work on
        return updated


def apply(module: cst.Module, fixes: Sequence[object]) -> cst.Module:
    """`module` with every fix applied in one walk (fixes earlier in `fixes` act first on each node)."""
    fixes = [f for f in fixes if f is not None]
    if not fixes:
        return module
    providers = tuple({p for f in fixes for p in getattr(f, "METADATA_DEPENDENCIES", ())})
    if not providers:
        return module.visit(_Combined(fixes))
    # LibCST reads a transformer's metadata needs from its class: one class per set of providers
    combined = type("_CombinedWithMetadata", (_Combined,), {"METADATA_DEPENDENCIES": providers})(fixes)
    return cst.MetadataWrapper(module, unsafe_skip_copy=True).visit(combined)


def lone_import_from(line: cst.SimpleStatementLine, module: str) -> cst.ImportFrom | None:
    """The line's statement when it is its only one and an absolute `from <module> import ...` (not `*`)."""
    from libcst.helpers import get_full_name_for_node

    if len(line.body) != 1 or not isinstance(line.body[0], cst.ImportFrom):
        return None
    imp = line.body[0]
    if imp.relative or imp.module is None or get_full_name_for_node(imp.module) != module:
        return None
    return None if isinstance(imp.names, cst.ImportStar) else imp
