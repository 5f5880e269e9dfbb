"""Work handed to one forked child process, its result pickled back over a pipe: the cold scan's state walk
(`quickscan.state_aside`, read after the imports), and the discovery of a large fleet and the cold scan, which
each give a child part of their work and do the rest themselves at the same time (`share`). The callers decide
whether a fork may happen at all (fork available, no other thread running that could hold a lock the child would
inherit: `may_fork`)."""

from __future__ import annotations

import contextlib
import os
import pickle
import sys
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
_meanwhile: list[Callable[[], object]] = []  # see `meanwhile`


def may_fork() -> bool:
    """Whether this process may fork: the platform has fork, and no other thread runs (one could hold a lock the
    child would inherit, locked for ever). `threading` is not imported for this: a process that never imported it
    runs no other thread."""
    threads = sys.modules.get("threading")
    return hasattr(os, "fork") and (threads is None or threads.active_count() == 1)


class Child:
    """A forked process working on `work()` (see `start`)."""

    def __init__(self, pid: int, r: int) -> None:
        self.pid, self._r = pid, r
        self._ended: list[int] = []

    def alive(self) -> bool:
        """Whether the child still runs (reaped here once it ended)."""
        if not self._ended:
            got, status = os.waitpid(self.pid, os.WNOHANG)
            if got:
                self._ended.append(status)
        return not self._ended

    def _status(self) -> int:
        return self._ended[0] if self._ended else os.waitpid(self.pid, 0)[1]

    def result(self, load: Callable[[bytes], Any] = pickle.loads) -> Any | None:
        """Wait for the child and give its result, or None when it failed (an exception, a status other than 0, a
        result `load` cannot read): the caller then does the child's work itself."""
        try:
            with os.fdopen(self._r, "rb") as fh:
                payload = fh.read()
        finally:
            status = self._status()
        if status != 0:
            return None
        try:
            return load(payload)
        except Exception:
            return None

    def abandon(self) -> None:
        """Close the pipe (the child's writes to it fail) and wait for the child to end."""
        os.close(self._r)
        self._status()


def start(work: Callable[[], Any]) -> Child:
    """Fork a process that runs `work()` and sends its result back pickled. Output buffers are flushed before the
    fork; the child leaves with `os._exit`, without running anything of this process's (exit handlers, buffers)."""
    sys.stdout.flush()
    sys.stderr.flush()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: work, send, and leave
        code = 1
        try:
            os.close(r)
            data = pickle.dumps(work(), protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(w, "wb") as fh:
                fh.write(data)
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    return Child(pid, r)


def share(child: Callable[[], Any], here: Callable[[Callable[[], bool]], T]) -> tuple[T, Any | None]:
    """`child()` run by a forked process while this one runs `here(alive)` (`alive()`: whether the child still
    runs); returns `here`'s result and the child's, or None for the child's when it failed. If `here` raises, the
    child is waited for and the exception goes on."""
    process = start(child)
    try:
        while _meanwhile:  # (see `meanwhile`)
            with contextlib.suppress(Exception):
                _meanwhile.pop(0)()
        mine = here(process.alive)
    except BaseException:
        process.abandon()
        raise
    return mine, process.result()


@contextlib.contextmanager
def meanwhile(work: Callable[[], object]) -> Iterator[None]:
    """While open, the next `share` runs `work()` in this process once its child is forked, before its own part:
    the shares of discovery and of the scan take their work in turns, so the child takes more of it meanwhile, and
    the child does not hold what `work` makes. For work this process needs later (a `run`'s rewrite workers, forked
    from it, inherit the modules it imports) that the shared work does not. Its exceptions are ignored (it only
    prepares); not run at all when no share forks inside the block."""
    _meanwhile.append(work)
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            _meanwhile.remove(work)
