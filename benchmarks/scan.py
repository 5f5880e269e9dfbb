"""Scan benchmark: fleetshift scan (cold and warm cache) against `grep -rl` and against LibCST-parsing every file.

Generates a synthetic fleet (default 300 services, ~34 files each, ~10 % of the files touching the
migrated libraries), then times, in the same run on the same machine:

  grep      grep -rl with every recipe token over the fleet (the floor: read every byte once)
  cold      fleetshift scan --json after deleting .fleetshift/cache (includes interpreter start-up)
  warm      a second fleetshift scan of the unchanged fleet
  libcst    libcst.parse_module on every Python file (measured on a sample, scaled to all files)

and prints the ratios. Targets: cold <= 5x grep, warm <= 1.5x grep, >= 20x faster than LibCST-everything.

    python benchmarks/scan.py [--services 300] [--files-per-service 34] [--libcst-sample 600] [--keep DIR]
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import libcst

from fleetshift.recipes import all_recipes

PLAIN = '''"""Module {i} of {svc}."""
import json
import logging

log = logging.getLogger(__name__)


class Handler{i}:
    def __init__(self, name: str) -> None:
        self.name = name
        self.count = 0

    def handle(self, payload: dict) -> str:
        self.count += 1
        data = {{"name": self.name, "n": self.count, **payload}}
        log.debug("handled %s", data)
        return json.dumps(data)


def helper_{i}(values: list[int]) -> int:
    total = 0
    for v in values:
        if v % 2:
            total += v * {i}
        else:
            total -= v
    return total
'''

TOUCHING = [
    '''from tenacity import retry, stop_after_attempt, wait_exponential
from tenacity._asyncio import AsyncRetrying


@retry(stop=stop_after_attempt(3), wait=wait_exponential(multiplier=0.1))
def fetch_{i}():
    return {i}


def stats_{i}():
    return fetch_{i}.retry.statistics
''',
    '''import asyncio
from asyncio_mqtt import Client


async def listen_{i}(host: str) -> None:
    async with Client(host, client_id="svc-{i}") as client:
        async with client.filtered_messages("sensors/+/temp") as messages:
            await client.subscribe("sensors/#")
            async for m in messages:
                print(m.topic.split("/")[1])
''',
    '''import pytest


@pytest.fixture(scope="session")
def event_loop():
    import asyncio
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.mark.asyncio(scope="module")
async def test_{i}():
    assert True
''',
    '''from influxdb_client import InfluxDBClient, Point
from influxdb_client.client.write_api import SYNCHRONOUS


def store_{i}(url: str) -> None:
    with InfluxDBClient(url=url, token="t", org="o") as client:
        client.write_api(write_options=SYNCHRONOUS).write(bucket="b", record=Point("m").field("v", {i}))
''',
]


def generate(root: Path, services: int, per_service: int, share: float, seed: int = 7) -> int:
    rng = random.Random(seed)
    n = 0
    for s in range(services):
        svc = root / "services" / f"svc-{s:03d}"
        pkg = svc / f"svc_{s:03d}"
        (pkg).mkdir(parents=True)
        (svc / "tests").mkdir()
        (svc / "requirements.txt").write_text("tenacity==8.2.3\nasyncio-mqtt==0.16.2\npytest==8.3.5\n")
        (pkg / "__init__.py").write_text("")
        n += 2
        for i in range(per_service - 2):
            folder = svc / "tests" if i % 5 == 0 else pkg
            name = f"test_mod_{i}.py" if folder.name == "tests" else f"mod_{i}.py"
            text = rng.choice(TOUCHING).format(i=i) if rng.random() < share else PLAIN.format(i=i, svc=svc.name)
            (folder / name).write_text(text)
            n += 1
    return n


def timed(cmd: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--services", type=int, default=300)
    ap.add_argument("--files-per-service", type=int, default=34)
    ap.add_argument("--share", type=float, default=0.10, help="share of files that touch a migrated library")
    ap.add_argument("--libcst-sample", type=int, default=600, help="files parsed with LibCST (0 = all)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", type=Path, help="generate the fleet here and keep it")
    args = ap.parse_args()

    root = args.keep or Path(tempfile.mkdtemp(prefix="fleetshift-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    n = generate(root, args.services, args.files_per_service, args.share)
    py_files = sorted(root.rglob("*.py"))
    print(f"fleet: {root}  services={args.services}  files={n}  python={len(py_files)}")

    tokens = sorted({t.decode() for r in all_recipes() for t in r.tokens})
    grep = ["grep", "-rlF", "--include=*.py", *[a for t in tokens for a in ("-e", t)], str(root)]
    scan = [sys.executable, "-m", "fleetshift", "scan", "--json", str(root)]
    cache = root / ".fleetshift"

    t_grep = timed(grep, args.repeat)
    colds = []
    for _ in range(args.repeat):
        shutil.rmtree(cache, ignore_errors=True)
        colds.append(timed(scan, 1))
    t_cold = statistics.median(colds)
    t_warm = timed(scan, args.repeat)

    sample = py_files if args.libcst_sample == 0 else random.Random(1).sample(py_files, min(args.libcst_sample, len(py_files)))
    start = time.perf_counter()
    for path in sample:
        libcst.parse_module(path.read_bytes())
    t_libcst = (time.perf_counter() - start) * len(py_files) / len(sample)

    print(f"grep -rl         {t_grep:8.3f} s")
    print(f"scan cold        {t_cold:8.3f} s   {t_cold / t_grep:6.2f}x grep   (target <= 5x)")
    print(f"scan warm        {t_warm:8.3f} s   {t_warm / t_grep:6.2f}x grep   (target <= 1.5x)")
    label = "all files" if len(sample) == len(py_files) else f"{len(sample)}-file sample, scaled"
    print(f"libcst all files {t_libcst:8.3f} s   cold scan is {t_libcst / t_cold:6.1f}x faster   (target >= 20x; {label})")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
