"""Work shared with one forked child process: the discovery of a large fleet and the cold scan each give a forked
child part of their work and do the rest themselves at the same time (the child's result comes back pickled over
a pipe). The callers decide whether a fork may happen at all (fork available, no other thread running that could
hold a lock the child would inherit)."""

from __future__ import annotations

import os
import pickle
import sys
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def share(child: Callable[[], Any], here: Callable[[Callable[[], bool]], T]) -> tuple[T, Any | None]:
    """`child()` run by a forked process while this one runs `here(alive)`; returns `here`'s result and the
    child's, or None for the child's when it failed (an exception, a status other than 0, a result that does not
    unpickle): the caller then does the child's share itself. `alive()` says whether the child still runs (and
    reaps it once it ended). Output buffers are flushed before the fork; the child leaves with `os._exit`, without
    running anything of this process's (exit handlers, buffers). If `here` raises, the child is waited for (its
    writes to the closed pipe fail) and the exception goes on."""
    sys.stdout.flush()
    sys.stderr.flush()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: work, send, and leave
        code = 1
        try:
            os.close(r)
            data = pickle.dumps(child(), protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(w, "wb") as fh:
                fh.write(data)
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    ended: list[int] = []

    def alive() -> bool:
        if not ended:
            got, status = os.waitpid(pid, os.WNOHANG)
            if got:
                ended.append(status)
        return not ended

    try:
        mine = here(alive)
        with os.fdopen(r, "rb") as fh:
            r = -1
            payload = fh.read()
    finally:
        if r != -1:
            os.close(r)
        status = ended[0] if ended else os.waitpid(pid, 0)[1]
    if status != 0:
        return mine, None
    try:
        return mine, pickle.loads(payload)
    except Exception:
        return mine, None
