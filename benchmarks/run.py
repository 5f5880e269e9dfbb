"""Run benchmark: `fleetshift run --no-verify --yes` on generated fleets of growing size, in one go.

Generates fleets with benchmarks/scan.py's generator (~34 files per service, ~10 % touching the migrated
libraries) and, for each size, times in the same run on the same machine:

  run       fleetshift run --no-verify --yes (wall and CPU time of the process, interpreter start-up included)
  parse     libcst.parse_module on the files the run changed, their bytes before the run (the floor of a
            LibCST rewrite of exactly those files), in this process

and prints the time per service, the ratio to the parse floor, each size against the first (cost per service
should stay flat), and the slope of a least-squares line through the sizes (seconds per extra service).
Targets on 2 cores: 300 services <= 10 s; 3,000 services <= 12x the 300-service time; run within 2x of parse.
The machine may be shared: compare the ratios, which are measured in the same run, more than the seconds.

    python benchmarks/run.py [--sizes 100,300,1000,3000] [--files-per-service 34] [--jobs 2] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import libcst

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scan import generate

from fleetshift.journal import Journal


def timed_run(fleet: Path, jobs: int) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system) and exit code of one `fleetshift run --no-verify --yes`."""
    cmd = [sys.executable, "-m", "fleetshift", "run", str(fleet), "--no-verify", "--yes"]
    if jobs:
        cmd += ["--jobs", str(jobs)]
    before = os.times()
    start = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    wall = time.perf_counter() - start
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    if done.returncode not in (0, 1):
        sys.stderr.write(done.stderr.decode(errors="replace")[-2000:])
    return wall, cpu, done.returncode


def parse_floor(fleet: Path) -> tuple[float, int]:
    """Seconds to LibCST-parse the original bytes of every Python file the latest run changed."""
    journal = Journal.open(fleet)
    blobs = journal.path / "blobs"
    sources = [(blobs / e["before"]).read_bytes() for e in journal.entries()
               if e["path"].endswith(".py") and (blobs / e["before"]).is_file()]
    start = time.perf_counter()
    for data in sources:
        libcst.parse_module(data)
    return time.perf_counter() - start, len(sources)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100,300,1000,3000", help="fleet sizes in services, comma-separated")
    ap.add_argument("--files-per-service", type=int, default=34)
    ap.add_argument("--share", type=float, default=0.10, help="share of files that touch a migrated library")
    ap.add_argument("--jobs", type=int, default=0, help="--jobs for the run (default: the run's own default)")
    ap.add_argument("--keep", type=Path, help="generate the fleets under this folder and keep them")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]

    base = args.keep or Path(tempfile.mkdtemp(prefix="fleetshift-run-bench-"))
    base.mkdir(parents=True, exist_ok=True)
    print(f"cores={os.cpu_count()}  load={os.getloadavg()[0]:.1f}  fleets under {base}")
    rows: list[tuple[int, int, float, float, float, int, int]] = []
    for n in sizes:
        fleet = base / f"fleet-{n}"
        shutil.rmtree(fleet, ignore_errors=True)
        files = generate(fleet, n, args.files_per_service, args.share)
        wall, cpu, rc = timed_run(fleet, args.jobs)
        parse, parsed = parse_floor(fleet)
        changed = len(Journal.open(fleet).entries())
        rows.append((n, files, wall, cpu, parse, parsed, changed))
        print(f"services={n:5d} files={files:6d} changed={changed:5d}  run {wall:8.2f} s wall {cpu:8.2f} s cpu  "
              f"{1000 * wall / n:7.1f} ms/service  parse-changed {parse:6.2f} s ({parsed} files)  "
              f"run/parse {wall / parse if parse else float('nan'):5.1f}x  exit {rc}", flush=True)
        if not args.keep:
            shutil.rmtree(fleet, ignore_errors=True)

    n0, _, wall0, cpu0, *_ = rows[0]
    print()
    vs = f"vs {n0}"
    print(f"{'services':>8} {'wall s':>8} {'cpu s':>8} {'ms/svc':>8} {'cpu ms/svc':>10} {'wall/svc ' + vs:>16} "
          f"{'cpu/svc ' + vs:>15}")
    for n, _, wall, cpu, *_ in rows:
        print(f"{n:8d} {wall:8.2f} {cpu:8.2f} {1000 * wall / n:8.1f} {1000 * cpu / n:10.1f} "
              f"{(wall / n) / (wall0 / n0):15.2f}x {(cpu / n) / (cpu0 / n0):14.2f}x")
    if len(rows) > 1:
        xs = [r[0] for r in rows]
        for label, ys in (("wall", [r[2] for r in rows]), ("cpu", [r[3] for r in rows])):
            mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
            slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)
            print(f"slope ({label}): {1000 * slope:.1f} ms per extra service")
    by = {r[0]: r for r in rows}
    if 300 in by:
        print(f"300 services: {by[300][2]:.1f} s wall (target <= 10 s)")
        if 3000 in by:
            print(f"3000 vs 300: {by[3000][2] / by[300][2]:.1f}x wall, {by[3000][3] / by[300][3]:.1f}x cpu "
                  f"(target <= 12x)")
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
