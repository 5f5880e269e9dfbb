"""Run benchmark: `fleetshift run --no-verify --yes` on generated fleets of growing size, in one go.

Generates fleets shaped like real services with benchmarks/fleetgen.py (34 files per service: about half the
Python files tests, module lengths lognormal with median ~150 lines, mean ~195, up to ~1,500; ~10 % of the Python
files holding a site of a migrated library blended into a long module; ~200 kB per service, ~5.8 kB per file; the
services' pins come from ten stacks and two eras, so uv resolves a bounded number of requirement sets), prints each
fleet's size (files, bytes, mean file size, module lines) and, for each size, times in the same run on the same
machine:

  rewrite   the rewrite stage alone, before the run, in this process: every planned service's ChangeSet computed
            (recipes, pins, locks; nothing is written), CPU seconds (uv's resolutions run in subprocesses and are
            not counted); for sizes up to --rewrite-max, since it costs about as much as the run's own rewrites
  run       fleetshift run --no-verify --yes (wall and CPU time of the process and its workers, interpreter
            start-up included; fleetshift's bytecode compiled beforehand, as an install leaves it), on a fleet
            with no cache left by the rewrite measurement
  parse     libcst.parse_module on the Python files the run changed, their bytes before the run (the floor of a
            LibCST rewrite of exactly those files), CPU seconds in this process, with the garbage collector's
            thresholds the rewrite runs with (fleetshift.gcpolicy)

and prints the time per service, each size against the first (cost per service should stay flat), the slope of
a least-squares line through the sizes (seconds per extra service), and one verdict line per target.
Targets on 2 cores: 300 services <= 10 s wall; 3,000 services <= 12x the 300-service time; rewrite within 2x
of parse. The machine may be shared: the load average is printed, and the ratios, measured in the same run,
say more than the seconds.

    python benchmarks/run.py [--sizes 100,300,1000,3000] [--files-per-service 34] [--jobs 2] [--keep DIR]
                             [--rewrite-max 1000]
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
import fleetgen_small
from fleetgen import describe, generate

from fleetshift.gcpolicy import fewer_collections
from fleetshift.journal import Journal
from fleetshift.pipeline import analyse
from fleetshift.rewrite import rewrite_fleet


def installed_env() -> dict[str, str]:
    """The environment a timed run gets: fleetshift as installed, its modules' bytecode cached beside them (as pip's
    install writes it; compiled here first), so a PYTHONDONTWRITEBYTECODE in the caller's environment does not make
    the run compile fleetshift's modules from source. The other packages' bytecode is theirs, as installed: a cache
    prefix of the benchmark's own would make the first timed run compile every library it imports (libcst, typer,
    rich, ...: about 0.6 s of CPU per fresh cache) and only the later ones not."""
    import fleetshift

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
    package = Path(fleetshift.__file__).resolve().parent
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], env=env, check=True)
    return env


def timed_run(fleet: Path, jobs: int, env: dict[str, str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system) and exit code of one `fleetshift run --no-verify --yes`."""
    cmd = [sys.executable, "-m", "fleetshift", "run", str(fleet), "--no-verify", "--yes"]
    if jobs:
        cmd += ["--jobs", str(jobs)]
    before = os.times()
    start = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, check=False)
    wall = time.perf_counter() - start
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    if done.returncode not in (0, 1):
        sys.stderr.write(done.stderr.decode(errors="replace")[-2000:])
    return wall, cpu, done.returncode


def parse_floor(fleet: Path) -> tuple[float, int]:
    """CPU seconds to LibCST-parse the original bytes of every Python file the latest run changed."""
    journal = Journal.open(fleet)
    blobs = journal.path / "blobs"
    sources = [(blobs / e["before"]).read_bytes() for e in journal.entries()
               if e["path"].endswith(".py") and (blobs / e["before"]).is_file()]
    with fewer_collections():  # the collector's thresholds the rewrite stage runs with (fleetshift.gcpolicy)
        start = time.process_time()
        for data in sources:
            libcst.parse_module(data)
        return time.process_time() - start, len(sources)


def rewrite_stage(fleet: Path) -> tuple[float, int]:
    """CPU seconds of computing every planned service's ChangeSet in this process (nothing is written), and how
    many Python files would change. The caches it leaves in the fleet are removed, so the run starts cold."""
    analysis = analyse(fleet)
    start = time.process_time()
    changesets = rewrite_fleet(analysis.fleet, analysis.plan, analysis.config)
    spent = time.process_time() - start
    shutil.rmtree(fleet / ".fleetshift", ignore_errors=True)
    return spent, sum(1 for cs in changesets for c in cs.changes if c.file.endswith(".py"))


def verdict(met: bool, text: str) -> str:
    return f"{'met    ' if met else 'NOT met'}  {text}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100,300,1000,3000", help="fleet sizes in services, comma-separated")
    ap.add_argument("--files-per-service", type=int, default=34)
    ap.add_argument("--share", type=float, default=0.10, help="share of files that touch a migrated library")
    ap.add_argument("--shape", choices=("real", "small"), default="real",
                    help="real: fleetgen.py, modules shaped like real services (default); small: fleetgen_small.py, "
                         "the ~25-line modules the first targets were measured on")
    ap.add_argument("--jobs", type=int, default=0, help="--jobs for the run (default: the run's own default)")
    ap.add_argument("--keep", type=Path, help="generate the fleets under this folder and keep them")
    ap.add_argument("--rewrite-max", type=int, default=1000,
                    help="measure the rewrite stage on its own for sizes up to this many services")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]

    base = args.keep or Path(tempfile.mkdtemp(prefix="fleetshift-run-bench-"))
    base.mkdir(parents=True, exist_ok=True)
    print(f"cores={os.cpu_count()}  load={os.getloadavg()[0]:.1f}  fleets under {base}")
    env = installed_env()
    rows: list[tuple[int, int, float, float, float, int, int, float | None]] = []
    for n in sizes:
        fleet = base / f"fleet-{n}"
        shutil.rmtree(fleet, ignore_errors=True)
        make = fleetgen_small.generate if args.shape == "small" else generate
        files = make(fleet, n, args.files_per_service, args.share)
        print(f"fleet of {n} ({args.shape}): {describe(fleet)}  share={args.share}", flush=True)
        rewrite, _ = rewrite_stage(fleet) if n <= args.rewrite_max else (None, 0)
        wall, cpu, rc = timed_run(fleet, args.jobs, env)
        parse, parsed = parse_floor(fleet)
        changed = len(Journal.open(fleet).entries())
        rows.append((n, files, wall, cpu, parse, parsed, changed, rewrite))
        stage = (f"rewrite {rewrite:6.2f} s cpu ({rewrite / parse if parse else float('nan'):5.1f}x parse)  "
                 if rewrite is not None else "")
        print(f"services={n:5d} files={files:6d} changed={changed:5d}  run {wall:8.2f} s wall {cpu:8.2f} s cpu  "
              f"{1000 * wall / n:7.1f} ms/service  {stage}parse-changed {parse:6.2f} s cpu ({parsed} files)  "
              f"load {os.getloadavg()[0]:.1f}  exit {rc}", flush=True)
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
    print()
    by = {r[0]: r for r in rows}
    if 300 in by:
        print(verdict(by[300][2] <= 10, f"300 services in {by[300][2]:.1f} s wall (target <= 10 s: "
                                        f"{by[300][2] / 10:.1f}x the target)"))
        if 3000 in by:
            ratio = by[3000][2] / by[300][2]
            print(verdict(ratio <= 12, f"3000 services in {ratio:.1f}x the 300-service wall time "
                                       f"({by[3000][3] / by[300][3]:.1f}x cpu; target <= 12x)"))
    for n, *_, parse, _, _, rewrite in rows:
        if rewrite is not None and parse:
            print(verdict(rewrite <= 2 * parse, f"{n} services: rewrite {rewrite:.2f} s cpu is {rewrite / parse:.1f}x "
                                                f"LibCST-parsing the changed files ({parse:.2f} s; target <= 2x)"))
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
