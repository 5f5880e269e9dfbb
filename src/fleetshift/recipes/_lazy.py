"""Names a recipe package re-exports from its LibCST rewriting modules, imported on first use.

Detection (`scan`, `check`, `plan`) uses the standard `ast` only; importing a recipe must not import LibCST.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, MutableMapping


def lazy_exports(
    namespace: MutableMapping[str, object], exports: Mapping[str, str]
) -> Callable[[str], object]:
    """A module `__getattr__` (PEP 562) that imports each name of `exports` (name -> module) when first asked
    for and keeps it in `namespace`."""
    module_name = namespace["__name__"]

    def __getattr__(name: str) -> object:
        source = exports.get(name)
        if source is None:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(source), name)
        namespace[name] = value
        return value

    return __getattr__
