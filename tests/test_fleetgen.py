"""The benchmark fleet generator (benchmarks/fleetgen.py) makes fleets shaped like real services: deterministic for
a seed, every Python file parses, long-tailed module lengths, about half the Python files tests, about `share` of
them holding a site of a migrated library, and `fleetshift scan --json` finds every migrated library in use."""

from __future__ import annotations

import ast
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import fleetgen  # noqa: E402

SERVICES, PER_SERVICE, SHARE = 6, 34, 0.10


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fleet")
    assert fleetgen.generate(root, SERVICES, PER_SERVICE, SHARE) == SERVICES * PER_SERVICE
    return root


@pytest.fixture(scope="module")
def scanned(fleet: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-m", "fleetshift", "scan", "--json", str(fleet)], capture_output=True,
                          text=True, env=env, check=False, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def python_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if ".fleetshift" not in p.parts)


def test_deterministic_for_a_seed(fleet: Path, tmp_path: Path) -> None:
    again, other = tmp_path / "again", tmp_path / "other"
    fleetgen.generate(again, 2, PER_SERVICE, SHARE)
    fleetgen.generate(other, 2, PER_SERVICE, SHARE, seed=8)
    first = {k: v for k, v in files(fleet).items() if k.startswith(("services/svc-000/", "services/svc-001/"))}
    assert files(again) == first
    assert files(other) != first


def test_every_python_file_parses_and_half_are_tests(fleet: Path) -> None:
    py = python_files(fleet)
    for path in py:
        ast.parse(path.read_bytes(), str(path))
    tests = [p for p in py if "tests" in p.relative_to(fleet).parts]
    assert 0.42 <= len(tests) / len(py) <= 0.58, (len(tests), len(py))
    assert all((p.parent / "conftest.py").exists() or p.name == "conftest.py" or (p.parent.parent / "conftest.py").exists()
               for p in tests)
    text = "\n".join(p.read_text() for p in tests)
    for shape in ("@pytest.mark.parametrize(", "pytest.param(", "with pytest.raises(", "class Test", "yield",
                  "@pytest.mark.asyncio", "@pytest_asyncio.fixture", "scope=\"session\""):
        assert shape in text, shape


def test_module_lengths_are_long_tailed(fleet: Path) -> None:
    lines = [p.read_text().count("\n") for p in python_files(fleet) if p.name != "__init__.py"]
    median, mean = statistics.median(lines), statistics.mean(lines)
    assert 110 <= median <= 190, median
    assert mean >= 1.15 * median, (mean, median)
    assert 600 <= max(lines) <= 1600, max(lines)
    assert min(lines) < 60


def test_about_share_of_the_python_files_touch_a_migrated_library(fleet: Path, scanned: dict) -> None:
    with_sites = {s["file"] for svc in scanned["services"] for s in svc["sites"] if s["file"].endswith(".py")}
    share = len(with_sites) / len(python_files(fleet))
    assert 0.6 * SHARE <= share <= 1.5 * SHARE, share


def test_scan_reports_every_migrated_library(scanned: dict) -> None:
    recipes = {s["recipe"] for svc in scanned["services"] for s in svc["sites"]}
    assert recipes == {"pytest", "pytest-asyncio", "tenacity", "aiomqtt", "influxdb3", "python-dotenv"}
    actions = {s["action"] for svc in scanned["services"] for s in svc["sites"]}
    assert {"auto", "human"} <= actions  # sites the recipes rewrite, and some they only report
