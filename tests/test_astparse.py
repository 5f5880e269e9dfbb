"""fleetshift's parses stay whole when threads parse side by side (fleetshift.astparse).

CPython 3.11 shares one depth counter between the threads building parsed trees: a collector that runs a
finalizer in the middle of one thread's build lets another thread parse, and a build fails with
`SystemError: AST constructor recursion depth mismatch`. The stress below makes exactly that happen (cyclic
garbage with finalizers, low collector thresholds, three threads); `ast.parse` itself fails under it on 3.11,
which the first test checks where it holds, so that the second one proves something.
"""

from __future__ import annotations

import ast
import gc
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from fleetshift import astparse

SOURCE = (Path(astparse.__file__).parent / "rewrite.py").read_text("utf-8")


class _Finalized:
    def __del__(self) -> None:
        sum(range(50))  # Python code run by the collector: another thread may take over here


def _stress(parse: Callable[[str], object], rounds: int = 40, threads: int = 3) -> list[str]:
    errors: list[str] = []

    def work() -> None:
        for _ in range(rounds):
            for _ in range(200):
                a, b = _Finalized(), _Finalized()
                a.other, b.other = b, a  # type: ignore[attr-defined]
            try:
                parse(SOURCE)
            except SystemError as exc:
                errors.append(str(exc))

    old = gc.get_threshold()
    gc.set_threshold(100, 5, 5)
    try:
        workers = [threading.Thread(target=work) for _ in range(threads)]
        for t in workers:
            t.start()
        for t in workers:
            t.join()
    finally:
        gc.set_threshold(*old)
    return errors


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="the race shown on the CPython this project runs in CI")
def test_the_stress_breaks_plain_ast_parse() -> None:
    assert any("recursion depth mismatch" in e for e in _stress(ast.parse))


def test_fleetshifts_parse_survives_the_stress() -> None:
    assert _stress(astparse.parse) == []


def test_the_same_trees_as_ast_parse() -> None:
    assert ast.dump(astparse.parse(SOURCE)) == ast.dump(ast.parse(SOURCE))
    assert ast.dump(astparse.parse("a + 1", mode="eval")) == ast.dump(ast.parse("a + 1", mode="eval"))
    with pytest.raises(SyntaxError):
        astparse.parse("def (:")


def test_a_fork_during_a_parse_leaves_the_child_a_free_lock() -> None:
    """A fork waits for the parse in progress; the child parses at once (it would hang on a lock held by a thread
    it does not have)."""
    started, release = threading.Event(), threading.Event()

    def hold() -> None:
        with astparse._lock:
            started.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    started.wait(5)
    threading.Timer(0.2, release.set).start()  # the fork below waits for the holder
    pid = os.fork()
    if pid == 0:  # the child: parse, and report by exit code (killed by the alarm if the lock is held)
        try:
            signal.signal(signal.SIGALRM, signal.SIG_DFL)  # (pytest-timeout's handler would be caught)
            signal.alarm(5)
            astparse.parse("x = 1")
        finally:
            os._exit(0)
    holder.join()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
