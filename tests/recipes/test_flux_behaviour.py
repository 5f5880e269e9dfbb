"""Behavioural proof on the demo's usage-reports service (Flux in `.flux` files loaded by name, Flux f-strings
in service modules handed to the service's own wrapper, callers reading `_field`/`_value`/`_time`): its
production entry point prints a report on influxdb-client 1.49 against the test server's Flux endpoint;
`fleetshift run` migrates the service; the migrated entry point prints the same report on influxdb3-python
through Flight SQL. The service's own tests pass on both pins."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from influxdb3_server import InfluxDB3TestServer
from uvenv import run, uv_env

pytestmark = pytest.mark.slow

DEMO = Path(__file__).resolve().parents[2] / "examples" / "homeiq"
SERVICE = "services/usage-reports"
TEST_DEPS = ["python-dotenv==1.0.1", "pytest==8.3.5", "pyarrow==26.0.1", "datafusion==55.0.0"]
OLD = ["influxdb-client==1.49.0", *TEST_DEPS]
SRC = Path(__file__).resolve().parents[2] / "src"


def _seed(start: datetime) -> str:
    """The report's data: what the service's own tests write, readings every 10 minutes for four hours."""
    base = int(start.timestamp())
    lines = []
    for k in range(24):
        t = base + k * 600
        lines.append(f"climate,room=kitchen celsius={20.0 + k * 0.25},humidity={45.0 + k % 5} {t * 10**9}")
        lines.append(
            f"climate,room=office celsius={18.5 + k * 0.5},humidity={40.0 + k % 3} {(t + 1) * 10**9}"
        )
        lines.append(f"power,circuit=main watts={250.0 + 10 * (k % 6)} {(t + 2) * 10**9}")
        lines.append(f"power,circuit=heat watts={1500.0 - 20 * k} {(t + 3) * 10**9}")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("flux") / "homeiq"
    for part in ("fleetshift.toml", SERVICE, "libs/homeiq-common"):
        src = DEMO / part
        if src.is_dir():
            shutil.copytree(src, root / part, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
        else:
            root.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, root / part)
    return root


def _tests(python: Path, fleet: Path) -> str:
    """The service's own tests (its pytest.ini puts src on the path; homeiq-common as its editable install)."""
    env = {"PYTHONPATH": str(fleet / "libs/homeiq-common/src")}
    res = run(
        python, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=fleet / SERVICE, env=env, timeout=180
    )
    assert res.returncode == 0, res.stdout + res.stderr
    return res.stdout


def _report(python: Path, fleet: Path, srv: InfluxDB3TestServer, start: datetime) -> str:
    service = fleet / SERVICE
    env = {
        "PYTHONPATH": f"{service / 'src'}{os.pathsep}{fleet / 'libs/homeiq-common/src'}",
        "INFLUX_URL": srv.url,
        "INFLUX_TOKEN": "test-token",
        "INFLUX_ORG": "homeiq",
        "INFLUX_BUCKET": "home",
    }
    args = (
        "-m",
        "usage_reports",
        "daily",
        "--start",
        start.isoformat(),
        "--stop",
        (start + timedelta(hours=2)).isoformat(),
    )
    res = run(python, *args, cwd=service, env=env, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    return res.stdout


def test_the_migrated_service_prints_the_same_report(fleet: Path) -> None:
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=4)
    old_python = uv_env(OLD)
    service = fleet / SERVICE
    assert "4 passed" in _tests(old_python, fleet)  # the baseline: its own tests on the old pins

    with InfluxDB3TestServer() as srv:
        srv.write("home", _seed(start))
        before = _report(old_python, fleet, srv, start)
        flux_queries = len(srv.requests)

        res = subprocess.run(
            [sys.executable, "-m", "fleetshift.cli", "run", str(fleet), "-s", "usage-reports", "-r", "influxdb3",
             "--no-verify", "--yes"],
            capture_output=True, text=True, timeout=600, env={**os.environ, "PYTHONPATH": str(SRC)},
        )  # fmt: skip
        assert res.returncode in (0, 1), res.stdout + res.stderr
        queries = service / "src/usage_reports/queries"
        assert sorted(p.name for p in queries.glob("*.sql")) == [
            "circuit_peaks.sql", "climate_windows.sql", "room_climate.sql", "weekly_climate.sql",
        ]  # fmt: skip
        requirement = next(
            line
            for line in (service / "requirements.txt").read_text().splitlines()
            if "influxdb3-python" in line
        )
        assert "influxdb_client " not in (service / "src/usage_reports/db.py").read_text()
        new_python = uv_env([requirement, *TEST_DEPS])
        tickets = len(srv.tickets)
        after = _report(new_python, fleet, srv, start)
        assert len(srv.tickets) - tickets >= 6  # every report query went through Flight SQL ...
        assert len(srv.requests) == flux_queries  # ... and none to the Flux endpoint

    if os.environ.get("FLEETSHIFT_SHOW_REPORT"):
        print(before)
    lines = before.splitlines()
    assert len(lines) >= 20 and any(re.match(r"comfort \S+\+00:00 ", ln) for ln in lines), before
    assert after == before, f"--- before ---\n{before}\n--- after ---\n{after}"
    assert "4 passed" in _tests(new_python, fleet)  # its own tests on the new pins
