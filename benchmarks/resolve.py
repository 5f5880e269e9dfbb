"""What letting the resolver decide adds to `run --dry-run` on the demo fleet, cold and warm.

Copies examples/homeiq, then times the rewrite stage of a dry run (analyse + rewrite every service) three
ways, in one process on the same machine:

  cold      .fleetshift/cache/resolve emptied first: every `uv pip compile` / `uv lock` runs (uv's own
            cache is whatever this machine has)
  warm      the same again: the answers come from .fleetshift/cache/resolve, uv is not run
  uv time   within each, the seconds spent waiting for uv (resolutions and lock regeneration)

    python benchmarks/resolve.py [--keep DIR]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from fleetshift import relock, resolve
from fleetshift.pipeline import analyse
from fleetshift.rewrite import RewriteOptions, rewrite_fleet

DEMO = Path(__file__).resolve().parent.parent / "examples" / "homeiq"


class Timer:
    """Wraps the two places fleetshift waits for uv and adds up their wall time."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0
        self._compile = resolve.Resolver._run
        self._relock = relock._relock

    def __enter__(self) -> Timer:
        timer = self

        def compile_(self_: resolve.Resolver, *a: object, **k: object) -> resolve.Resolution:
            start = time.perf_counter()
            try:
                return timer._compile(self_, *a, **k)  # type: ignore[arg-type]
            finally:
                timer.seconds += time.perf_counter() - start
                timer.calls += 1

        def relock_(*a: object, **k: object) -> relock.Relocked:
            start = time.perf_counter()
            try:
                return timer._relock(*a, **k)  # type: ignore[arg-type]
            finally:
                timer.seconds += time.perf_counter() - start
                timer.calls += 1

        resolve.Resolver._run = compile_  # type: ignore[method-assign]
        relock._relock = relock_  # type: ignore[assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        resolve.Resolver._run = self._compile  # type: ignore[method-assign]
        relock._relock = self._relock  # type: ignore[assignment]


def dry_run(root: Path) -> tuple[float, float, int, int]:
    """(total seconds, seconds waiting for uv, uv runs, files that would change) of one dry run's stages."""
    with Timer() as timer:
        start = time.perf_counter()
        a = analyse(root)
        changesets = rewrite_fleet(a.fleet, a.plan, a.config, RewriteOptions())
        total = time.perf_counter() - start
    return total, timer.seconds, timer.calls, sum(len(c.changes) for c in changesets)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", type=Path, help="copy the demo here and leave it")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="fleetshift-bench-resolve-"))
    root = base / "homeiq"
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(DEMO, root)
    try:
        shutil.rmtree(root / resolve.CACHE_DIR, ignore_errors=True)
        rows = [("cold", *dry_run(root)), ("warm", *dry_run(root))]
        print(f"{'':6}{'dry run':>10}{'waiting for uv':>16}{'uv runs':>9}{'files':>7}")
        for label, total, uv, calls, files in rows:
            print(f"{label:6}{total:>9.1f}s{uv:>15.1f}s{calls:>9}{files:>7}")
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
