"""`python -m fleetshift` and the `fleetshift` command. A `scan --json` of a fleet unchanged since its last
scan is answered from the stored snapshot (fleetshift.quickscan) before the command line is loaded, and any
other `scan --json FLEET` runs without it; every other command goes to fleetshift.cli."""

from __future__ import annotations

import gc
import sys


def main() -> None:
    """Run the command (`run` also ends the process once an answered `scan --json` is done)."""
    answered()


def answered() -> bool:
    """Run the command; True when it was a `scan --json` answered without the command line (its output is out:
    the process has nothing left to do), False when the command line ran it and returned."""
    from fleetshift.quickscan import answer, scan_json

    try:
        if answer(sys.argv[1:]) or scan_json(sys.argv[1:]):
            gc.freeze()  # the process ends here: see below
            return True
    except BrokenPipeError:  # `fleetshift scan --json | head`: the reader left; that is not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
    from fleetshift.cli import main as cli_main

    try:
        cli_main()
    finally:
        # the process ends here: no collection need walk what it holds while the interpreter tears its modules
        # down (they cost a cold scan of 60 services 1.8 s of its 4.9 s); the system takes the memory back
        gc.freeze()
    return False


def leave() -> None:
    """End the process once a `scan --json` is answered: the output flushed and the exit handlers run as at any
    exit, but without the interpreter's teardown, which frees one by one every object the modules still hold (the
    parsed modules the scan keeps for the recipes: ~70 ms of a cold `scan --json` of fleet-60). The scan wrote
    and closed its own files by then (cache, snapshot). The command line's commands end the ordinary way: they may
    hold what only their finalizers close (the journal's SQLite database checkpoints its log when closed). A
    thread still running, or output that cannot be flushed, is also left to the ordinary exit."""
    import atexit
    import os
    import threading

    if threading.active_count() != 1:
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:  # (a reader that left: the ordinary exit reports it as before)
        return
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:
        os._exit(120)  # as the interpreter does when its last flush fails
    os._exit(0)


def run() -> None:
    """The `fleetshift` command and `python -m fleetshift`: the command, then, for an answered `scan --json`, the
    end of the process (`leave`). `main` runs the command alone, for a caller that goes on after it."""
    if answered():
        leave()


if __name__ == "__main__":
    run()
