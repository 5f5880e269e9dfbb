"""`python -m fleetshift` and the `fleetshift` command. A `scan --json` of a fleet unchanged since its last
scan is answered from the stored snapshot (fleetshift.quickscan) before the command line is loaded, and any
other `scan --json FLEET` runs without it; every other command goes to fleetshift.cli."""

from __future__ import annotations

import gc
import sys


def main() -> None:
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
    """End `python -m fleetshift` once a `scan --json` is answered: the output flushed and the exit handlers run
    as at any exit, but without the interpreter's teardown, which frees one by one every object the modules
    still hold (the parsed modules the scan keeps for the recipes, ~70 ms of a cold scan of fleet-60). A
    thread still running is waited for by the ordinary exit instead."""
    import atexit
    import os
    import threading

    if threading.active_count() != 1:
        return
    try:
        sys.stdout.flush()
    except BrokenPipeError:  # as above: the reader left
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(0)


if __name__ == "__main__":
    if answered():
        leave()
