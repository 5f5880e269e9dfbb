"""`libcst.matchers`, imported without the class docstrings nobody reads.

`libcst.codemod` (the import visitors every recipe's fixes use) and the per-class introspection of `recipes.fixes`
import `libcst.matchers`: some 180 dataclasses, one per node type. For a dataclass without a docstring
`dataclasses` writes one, its signature spelled out (`inspect.signature`, every annotation a Union of matcher
types formatted): about 40 % of that import's CPU, paid once by every process that rewrites. `load()` imports the
module with that one step skipped for its own classes, whose `__doc__` is then their bare name (what `dataclasses`
writes when it has no signature); their fields, methods and behaviour are LibCST's, and every other dataclass
made meanwhile (another thread) gets its docstring as always.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

_MODULE = "libcst.matchers"
_lock = threading.Lock()


class _Unsigned:
    """`inspect` as `dataclasses` sees it while `libcst.matchers` is imported: no signature for its classes."""

    def __init__(self, inspect: Any) -> None:
        self._inspect = inspect

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inspect, name)

    def signature(self, obj: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(obj, "__module__", None) == _MODULE:
            raise ValueError("no docstring signature")  # `dataclasses` then writes the bare class name
        return self._inspect.signature(obj, *args, **kwargs)


def load() -> None:
    """Import `libcst.matchers` (nothing to do when it is imported already)."""
    if _MODULE in sys.modules:
        return
    import dataclasses

    with _lock:
        inspect = getattr(dataclasses, "inspect", None)
        if inspect is None or _MODULE in sys.modules:  # a Python whose dataclasses differ: the plain import
            import libcst.matchers
            return
        dataclasses.inspect = _Unsigned(inspect)  # type: ignore[attr-defined]
        try:
            import libcst.matchers  # noqa: F401
        finally:
            dataclasses.inspect = inspect  # type: ignore[attr-defined]
