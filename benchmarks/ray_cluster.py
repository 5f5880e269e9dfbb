"""Ray executor benchmark: the demo campaign on the local executor and on a local Ray cluster, in the same run.

Each side runs the verified campaign (`run --phase all --yes`) on its own fresh copy of the demo fleet (no
baseline cache), the local side first so that both find uv's cache warm (pass --warmup to run the local side
once before, unmeasured, on a cold machine). Printed:

  wall time of each campaign and its verdicts (they must be equal)
  per Ray task: step (baseline / after), seconds inside the task (unpack, environment, tests, health, logs),
  seconds seen by the conductor (pack, send, queue, run, receive, write logs), their difference (the overhead),
  bytes sent (the packed service) and bytes back (logs, JUnit)
  per step: the local executor's step time against the Ray task's, per service

    python benchmarks/ray_cluster.py [--jobs 2] [--cpus 2] [--service NAME ...] [--warmup] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from fleetshift.executors import LocalExecutor
from fleetshift.journal import Journal
from fleetshift.model import Phase, TestRun
from fleetshift.orchestrate import Campaign, RunOptions
from fleetshift.pipeline import analyse
from fleetshift.runner import _hooks, plan_snapshot
from fleetshift.verify import VerifyRequest
from fleetshift.verify.envs import DEFAULT_TIMEOUT

DEMO = Path(__file__).resolve().parents[1] / "examples" / "homeiq"
IGNORE = shutil.ignore_patterns(".fleetshift", "__pycache__", ".pytest_cache", ".venv")


def fresh_fleet(label: str) -> Path:
    base = Path(tempfile.mkdtemp(prefix=f"fleetshift-bench-ray-{label}-"))
    shutil.copytree(DEMO, base / "homeiq", ignore=IGNORE)
    return base / "homeiq"


def campaign(label: str, executor: Any, jobs: int, services: tuple[str, ...]) -> dict[str, Any]:
    """One verified campaign on a fresh copy of the demo through `executor`; its wall time, verdicts and the
    step times read from its run state."""
    root = fresh_fleet(label)
    a = analyse(root)
    options = RunOptions(tuple(Phase), services, (), jobs, None, True, True)
    journal = Journal.start(root, {**options.to_meta(), "command": "run", "plan": plan_snapshot(a.plan), "pid": os.getpid()})
    start = time.perf_counter()
    outcome = Campaign(a, options, journal, _hooks(a, journal), executor=executor).run()
    wall = time.perf_counter() - start
    verdicts = {name: v.outcome.value for name, v in sorted(outcome.verdicts.items())}
    shutil.rmtree(root.parent, ignore_errors=True)
    return {"wall": wall, "verdicts": verdicts, "status": outcome.status.value}


class TimedLocal(LocalExecutor):
    """The local executor, each step timed."""

    def __init__(self) -> None:
        self.steps: dict[tuple[str, str], float] = {}

    def baseline(self, request: VerifyRequest) -> TestRun:
        start = time.perf_counter()
        try:
            return super().baseline(request)
        finally:
            self.steps[(request.service.name, "baseline")] = time.perf_counter() - start

    def after(self, request: VerifyRequest) -> TestRun:
        start = time.perf_counter()
        try:
            return super().after(request)
        finally:
            self.steps[(request.service.name, "after")] = time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jobs", type=int, default=2, help="services at once on each side (default 2)")
    ap.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray cluster (default 2)")
    ap.add_argument("--service", action="append", default=[], help="only these demo services (default: all)")
    ap.add_argument("--warmup", action="store_true", help="run the local side once first, unmeasured")
    ap.add_argument("--json", type=Path, help="write the figures here too")
    args = ap.parse_args()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    services = tuple(args.service)
    console = Console()

    if args.warmup:
        campaign("warmup", LocalExecutor(), args.jobs, services)
    timed = TimedLocal()
    local = campaign("local", timed, args.jobs, services)
    console.print(f"local executor: {local['wall']:.1f} s, {local['status']}")

    import ray

    from fleetshift.executors_ray import RayExecutor, runtime_env

    start = time.perf_counter()
    ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False, runtime_env=runtime_env())
    cluster_start = time.perf_counter() - start
    executor = RayExecutor()
    remote = campaign("ray", executor, args.jobs, services)
    ray.shutdown()
    console.print(f"ray executor:   {remote['wall']:.1f} s, {remote['status']} (cluster start {cluster_start:.1f} s, not counted)")

    same = local["verdicts"] == remote["verdicts"]
    console.print(f"verdicts equal: {same}")
    if not same:
        for name in sorted(set(local["verdicts"]) | set(remote["verdicts"])):
            console.print(f"  {name}: local {local['verdicts'].get(name)}, ray {remote['verdicts'].get(name)}")

    tasks = executor.tasks
    console.print(f"\n{'service':<24}{'step':<10}{'task s':>8}{'wall s':>8}{'ovh s':>8}{'sent KiB':>10}{'back KiB':>10}{'local s':>9}")
    for t in sorted(tasks, key=lambda t: (t["service"], t["step"])):
        here = timed.steps.get((t["service"], t["step"]))
        console.print(f"{t['service']:<24}{t['step']:<10}{t['task']:>8.1f}{t['wall']:>8.1f}{t['wall'] - t['task']:>8.2f}"
                      f"{t['sent'] / 1024:>10.1f}{t['back'] / 1024:>10.1f}{(here or 0):>9.1f}")
    overhead = [t["wall"] - t["task"] for t in tasks]
    inside = [t["task"] for t in tasks]
    summary = {
        "tasks": len(tasks),
        "overhead_median_s": statistics.median(overhead) if overhead else 0.0,
        "overhead_max_s": max(overhead, default=0.0),
        "task_median_s": statistics.median(inside) if inside else 0.0,
        "task_mean_s": statistics.mean(inside) if inside else 0.0,
        "sent_median_kib": statistics.median([t["sent"] for t in tasks]) / 1024 if tasks else 0.0,
        "back_median_kib": statistics.median([t["back"] for t in tasks]) / 1024 if tasks else 0.0,
        "local_wall_s": local["wall"],
        "ray_wall_s": remote["wall"],
        "cluster_start_s": cluster_start,
        "verdicts_equal": same,
        "step_timeout_s": DEFAULT_TIMEOUT,
    }
    console.print("\n" + "  ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in summary.items()))
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "tasks": tasks, "local": local["verdicts"],
                                         "ray": remote["verdicts"]}, indent=1))  # fmt: skip
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
