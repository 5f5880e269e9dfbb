"""`scan`, `check` and `plan` use the standard `ast` only: loading the recipes and analysing a fleet full of
old-API code must not import LibCST (about a second of start-up), which only the rewriting hooks need."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from fleet_factory import make_fleet

import fleetshift

# the child Pythons import this checkout's fleetshift, not whichever copy is installed
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(fleetshift.__file__).parents[1]), os.environ.get("PYTHONPATH", "")])}

OLD_API_FLEET: dict[str, str | bytes] = {
    "services/alpha/requirements.txt": (
        "asyncio-mqtt==0.16.2\ninfluxdb-client==1.40.0\ntenacity==8.2.3\npython-dotenv==1.0.1\n"
        "pytest==8.3.3\npytest-asyncio==0.23.8\n"
    ),
    "services/alpha/pyproject.toml": '[project]\nname = "alpha"\nrequires-python = ">=3.8"\n',
    "services/alpha/pytest.ini": "[pytest]\nasyncio_mode = auto\nfilterwarnings =\n    error::pytest.PytestRemovedIn9Warning\n",
    "services/alpha/alpha/__init__.py": "",
    "services/alpha/alpha/bus.py": """
        from asyncio_mqtt import Client


        async def listen():
            async with Client("broker") as client:
                async with client.messages() as messages:
                    await client.subscribe("a/#")
                    async for message in messages:
                        print(message.payload)
        """,
    "services/alpha/alpha/store.py": """
        from influxdb_client import InfluxDBClient

        client = InfluxDBClient(url="http://db:8086", token="t", org="o")
        tables = client.query_api().query('from(bucket: "b") |> range(start: -1h)')
        """,
    "services/alpha/alpha/jobs.py": """
        from tenacity import retry, stop_after_attempt
        from tenacity._asyncio import AsyncRetrying


        @retry(stop=stop_after_attempt(3))
        def fetch():
            return 1


        def stats():
            return fetch.retry.statistics
        """,
    "services/alpha/alpha/settings.py": """
        from dotenv import load_dotenv

        load_dotenv()
        """,
    "services/alpha/tests/conftest.py": """
        import asyncio

        import pytest


        @pytest.fixture
        def event_loop():
            loop = asyncio.new_event_loop()
            yield loop
            loop.close()


        def pytest_collect_file(path, parent):
            return None
        """,
    "services/alpha/tests/test_jobs.py": """
        import pytest


        @pytest.mark.asyncio
        async def test_fetch(event_loop):
            assert True
        """,
}

PROBE = """
import contextlib, io, json, sys
from pathlib import Path

import fleetshift.scan
import fleetshift.recipes as r
from fleetshift.pipeline import analyse

def libcst():
    return sorted(m for m in sys.modules if m == "libcst" or m.startswith("libcst."))

out = {"after_import": None, "after_analyse": None, "after_cli": None, "sites": {}}
r.all_recipes()
out["after_import"] = libcst()
root = Path(sys.argv[1])
a = analyse(root, use_cache=False, jobs=1)
for inv in a.inventory.services:
    for s in inv.sites:
        out["sites"].setdefault(s.recipe, []).append(s.rule)
out["after_analyse"] = libcst()

from fleetshift.cli import app
for args in (["scan", "--json", "--no-cache"], ["check", "--json"], ["plan", "--json", "--out", sys.argv[2]]):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
        app([*args, str(root)])
out["after_cli"] = libcst()
print(json.dumps(out))
"""


def test_detection_path_never_imports_libcst(tmp_path: Path) -> None:
    root = make_fleet(tmp_path / "fleet", OLD_API_FLEET)
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(root), str(tmp_path / "plan")],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    # the fleet really exercised every recipe's detection ...
    every = {"aiomqtt", "influxdb3", "tenacity", "python-dotenv", "pytest", "pytest-asyncio"}
    assert set(out["sites"]) >= every
    assert (tmp_path / "plan").is_dir()
    # ... and nothing on the way loaded LibCST
    assert out["after_import"] == []
    assert out["after_analyse"] == []
    assert out["after_cli"] == []


def test_rewriting_helpers_live_in_their_own_modules() -> None:
    """The LibCST rewriters and helpers are imported from the modules that define them (no lazy re-export
    layer): importing them loads LibCST, and the recipe packages do not pretend to hold them."""
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys\n"
            "from fleetshift.recipes import _pytest_config as pc, pytest9, tenacity\n"
            "assert 'libcst' not in sys.modules\n"
            "from fleetshift.recipes.pytest9.rewrite import rewrite_file\n"
            "assert 'libcst' in sys.modules\n"
            "from fleetshift.recipes.tenacity.rewrite import rewrite_module\n"
            "from fleetshift.recipes._cst import Imports\n"
            "from fleetshift.recipes._pytest_config.syntax import callee, get_full_name_for_node\n"
            "for module, name in ((pc, 'callee'), (pytest9, 'rewrite_file'), (tenacity, 'rewrite_module')):\n"
            "    assert not hasattr(module, '__getattr__') and not hasattr(module, name), (module, name)\n",
        ],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
