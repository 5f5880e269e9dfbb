"""`ast.parse` for every part of fleetshift, one thread at a time.

CPython 3.11 builds the Python objects of a parsed tree with a depth counter that all the interpreter's threads
share. When the collector runs Python code (a finalizer) in the middle of one thread's build, another thread may
parse meanwhile, and a build then fails with `SystemError: AST constructor recursion depth mismatch`
(python/cpython#106905). fleetshift parses in threads (a run's services side by side in one process, pin
questions asked ahead, verify's checks), so every parse takes this lock; ruff's banned-api rule (TID251, in
pyproject.toml) keeps `ast.parse` out of the rest of the code. The lock is re-entrant (a finalizer parsing in
the same thread nests its count inside the build), and a fork waits for the parse in progress, so a forked
child never starts with the lock held by a thread it does not have.
"""

from __future__ import annotations

import ast
import os
import threading
from typing import Literal, overload

_lock = threading.RLock()


def _renew() -> None:
    global _lock
    _lock = threading.RLock()


os.register_at_fork(before=lambda: _lock.acquire(), after_in_parent=lambda: _lock.release(),
                    after_in_child=_renew)


@overload
def parse(source: str | bytes, filename: str = ..., mode: Literal["exec"] = ...) -> ast.Module: ...
@overload
def parse(source: str | bytes, filename: str = ..., mode: Literal["eval"] = ...) -> ast.Expression: ...
def parse(source: str | bytes, filename: str = "<unknown>", mode: str = "exec") -> ast.AST:
    """`ast.parse(source, filename, mode)`, never beside another thread's parse."""
    with _lock:
        return ast.parse(source, filename, mode)  # noqa: TID251
