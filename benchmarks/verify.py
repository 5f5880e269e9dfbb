"""Verification benchmark: the full demo campaign, and uv against venv + pip for making environments.

Measured in the same run (machines here are shared and noisy, so compare ratios, not seconds):

  campaign --jobs 1 / --jobs 2   wall time of `fleetshift run --phase all --yes` on a fresh copy of the demo
                                 fleet with a warm uv cache (a first, unmeasured run warms the cache)
  env share                      of the per-service step time, the part spent making environments versus
                                 running tests (from the run's state and results.json)
  uv vs pip                      making one service's environment with `uv venv` + `uv pip install` versus
                                 `python -m venv` + `pip install`, same requirements

Target: the demo campaign under 3 minutes warm on 2 cores.

    python benchmarks/verify.py [--skip-warmup] [--jobs 1 2]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from uv import find_uv_bin

from fleetshift.journal import read_state

DEMO = Path(__file__).resolve().parents[1] / "examples" / "homeiq"


def campaign(jobs: int) -> tuple[float, Path]:
    base = Path(tempfile.mkdtemp(prefix="fleetshift-bench-verify-"))
    fleet = base / "homeiq"
    shutil.copytree(DEMO, fleet, ignore=shutil.ignore_patterns(".fleetshift", "__pycache__", ".pytest_cache"))
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "fleetshift", "run", str(fleet), "--phase", "all", "--yes", "--jobs", str(jobs)],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start, fleet


def shares(fleet: Path) -> tuple[float, float, int, int]:
    """(seconds in steps, seconds running tests, services passed, services) from the last run."""
    run_dir = sorted((fleet / ".fleetshift" / "runs").iterdir())[-1]
    state = read_state(run_dir)
    results = json.loads((run_dir / "results.json").read_text())
    step_total = 0.0
    for svc in state["services"].values():
        for name in ("baseline", "verify"):
            events = [json.loads(line) for line in (run_dir / "journal.jsonl").read_text().splitlines()
                      if f'"step": "{name}"' in line and f'"service": "{svc_name(svc, state)}"' in line]
            times = [dt.datetime.fromisoformat(e["time"]).timestamp() for e in events if "time" in e]
            if len(times) >= 2:
                step_total += max(times) - min(times)
    test_total = sum((s["tests"]["before"] or {}).get("duration", 0) * (not (s["tests"]["before"] or {}).get("cached"))
                     + (s["tests"]["after"] or {}).get("duration", 0) for s in results["services"])
    return step_total, test_total, results["summary"]["succeeded"], results["summary"]["services"]


def svc_name(svc: dict, state: dict) -> str:
    for name, value in state["services"].items():
        if value is svc:
            return name
    return ""


def make_env_uv(reqs: list[str], where: Path) -> float:
    uv = find_uv_bin()
    start = time.perf_counter()
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(where)], check=True)
    subprocess.run([uv, "pip", "install", "--quiet", "--python", str(where / "bin" / "python"), *reqs], check=True)
    return time.perf_counter() - start


def make_env_pip(reqs: list[str], where: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True)
    subprocess.run([str(where / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *reqs], check=True)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--skip-warmup", action="store_true", help="the uv cache is already warm")
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args()
    if not args.skip_warmup:
        print("warming the uv cache with one unmeasured campaign ...", flush=True)
        campaign(2)
    for jobs in args.jobs:
        seconds, fleet = campaign(jobs)
        steps, tests, ok, total = shares(fleet)
        env = max(steps - tests, 0.0)
        print(f"campaign --jobs {jobs}: {seconds:7.1f} s wall, {ok}/{total} services verified; "
              f"of {steps:.0f} s in baseline/verify steps: environments {env / steps:.0%}, tests {tests / steps:.0%}"
              if steps else f"campaign --jobs {jobs}: {seconds:7.1f} s wall, {ok}/{total} services verified")
    reqs = ["pytest>=9.0.2,<10", "pytest-asyncio>=1.3.0,<2", "tenacity>=9.1.2,<10", "aiomqtt>=2.4.0,<3", "python-dotenv>=1.2.1,<2"]
    with tempfile.TemporaryDirectory() as tmp:
        make_env_uv(reqs, Path(tmp) / "warm")  # same cache state for both sides
        t_uv = make_env_uv(reqs, Path(tmp) / "uv")
        t_pip = make_env_pip(reqs, Path(tmp) / "pip")
    print(f"one environment ({len(reqs)} requirements): uv {t_uv:.2f} s, venv + pip {t_pip:.2f} s -> uv is {t_pip / t_uv:.1f}x faster")


if __name__ == "__main__":
    main()
