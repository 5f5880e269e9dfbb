"""The small-module fleet the first run and scan targets were measured on: 34 files per service of about 25 lines
each, from one plain template and four short templates that touch tenacity, asyncio-mqtt, pytest-asyncio and
influxdb-client (about `share` of the files). Kept beside fleetgen.py, the fleet shaped like real services, so
the benchmarks can compare both (`--shape small`): this fleet has no long modules, few test files and the
library sites fill the modules that hold them, which is why it flatters any per-file or per-node cost.

    generate(root, services, per_service=34, share=0.10, seed=7) -> files written
"""

from __future__ import annotations

import random
from pathlib import Path

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


def generate(root: Path, services: int, per_service: int = 34, share: float = 0.10, seed: int = 7) -> int:
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
