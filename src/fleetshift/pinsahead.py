"""Pin questions asked while the fleet is scanned: a `run` forks, once discovery has read the services' manifests,
a process that asks uv the questions the rewrites will ask, so their answers wait in the resolver's cache
(`.fleetshift/cache/resolve`) when the rewrites need them.

The scan is CPU work on every core; uv's answers are mostly waiting (for the index, for each other's cache
entries): asked after the scan, a 300-service fleet's questions kept the rewrite workers half idle for seconds
(the answers to one service's questions come one after the other, each a uv run). Before the scan, the chain a
service's plan will give it is not known yet; it is taken from the manifests alone (`scan.recipe_uses` without
any usage site): a recipe whose package a manifest pins on a release before the break. Every question is asked
as the rewrite would ask it (`rewrite._ask_ahead`), and answers are stored by the question, so a question the
run never asks costs only its uv run, and one it asks differently is asked again by the rewrite: this only warms
a cache, it decides nothing. A service whose chain the usage sites change (an unpinned library used in code, a
pin past the break with old code left) gets its questions from the run's own asking ahead, as before.

The process is forked while this one is single-threaded (before the scan, which forks too), in a process group
of its own; it ends when its questions are answered, when this process ends (`stop`, at exit) or is gone.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from fleetshift.config import FleetConfig
from fleetshift.model import Fleet, Selection, Service

_child: tuple[int, int] | None = None  # (pid of the asking process, pid of the process that forked it)
_asked: tuple[str, frozenset[tuple[str, tuple[str, ...]]]] = ("", frozenset())  # (fleet root, {(service, chain)})


def chains(fleet: Fleet, config: FleetConfig, selection: Selection) -> list[tuple[Service, tuple[str, ...]]]:
    """Each selected service with the chain its manifests alone give it (services with none left out), in the
    order the plan will chain the recipes."""
    from fleetshift.plan import chain_order
    from fleetshift.scan import recipe_uses

    work = []
    for service in fleet.services:
        if not selection.wants(service.name):
            continue
        uses, _ = recipe_uses(service, (), config)
        chain = chain_order([u.recipe for u in uses if not u.already_done and selection.wants_recipe(u.recipe)])
        if chain:
            work.append((service, chain))
    return work


def start(root: Path, fleet: Fleet, config: FleetConfig, selection: Selection = Selection()) -> bool:
    """Fork the process that asks the fleet's pin questions ahead (see the module); whether it was started. Not
    where no process may be forked (no fork, another thread running that could hold a lock the child inherits) or
    one is asking already."""
    global _child, _asked
    from fleetshift.forked import may_fork

    if _child is not None or not may_fork():
        return False
    try:
        work = chains(fleet, config, selection)
    except Exception:  # a cache warmer: the run meets the same problem and says so
        return False
    if not work:
        return False
    parent = os.getpid()
    try:
        pid = os.fork()
    except OSError:
        return False
    if pid == 0:  # pragma: no cover - the child (its coverage is not collected)
        _ask(root, work, config, parent)
    with contextlib.suppress(OSError):  # in its own group whichever of the two gets here first
        os.setpgid(pid, pid)
    _child = (pid, parent)
    _asked = (str(root), frozenset((service.name, chain) for service, chain in work))
    atexit.register(stop)
    return True


def asked(root: Path, service: Service, chain: Sequence[str]) -> bool:
    """Whether the asking process forked here was given the questions of `service` with `chain` in the fleet at
    `root`, as the run's own asking ahead would ask them: the same chain, and a service that is not a library (a
    library's pin questions depend on the files the scan found its recipes' code in, which the asking process did not
    know yet)."""
    where, work = _asked
    return where == str(root) and (service.name, tuple(chain)) in work and not service.project.is_library


def _ask(root: Path, work: Sequence[tuple[Service, tuple[str, ...]]], config: FleetConfig, parent: int) -> None:
    """The child: ask, then end without running this process's exit handlers or flushing its output buffers
    (they are the parent's)."""
    code = 0
    try:
        with contextlib.suppress(OSError):
            os.setpgid(0, 0)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the run's to handle: it stops this process
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        stop_event = threading.Event()

        def watch() -> None:  # the run is gone (killed): so is the reason to ask
            while os.getppid() == parent:
                time.sleep(0.5)
            stop_event.set()
            os._exit(1)

        threading.Thread(target=watch, name="fleetshift-pins-ahead-watch", daemon=True).start()
        from fleetshift.rewrite import _ask_ahead

        _ask_ahead(root, list(work), config, stop_event)
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def stop() -> None:
    """End the asking process (and the uv runs it started) if it still runs, and reap it. Only the process that
    forked it does (a rewrite worker forked later inherits the record)."""
    global _child
    if _child is None or _child[1] != os.getpid():
        return
    pid, _ = _child
    _child = None
    with contextlib.suppress(OSError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return
        os.killpg(pid, signal.SIGTERM)
    with contextlib.suppress(OSError):
        os.waitpid(pid, 0)
