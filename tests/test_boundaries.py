"""Hard boundaries, end to end through the CLI: config patterns, requirement includes, path dependencies and
links resolve inside the fleet root or are refused. Nothing outside the root is read or written."""

import hashlib
import json
import os
from pathlib import Path

import pytest
from fleet_factory import make_fleet
from typer.testing import CliRunner

from fleetshift.cli import app

runner = CliRunner()

OLD_CODE = """\
from tenacity import retry, stop_after_attempt
from tenacity._asyncio import AsyncRetrying

@retry(stop=stop_after_attempt(3), reraise=True)
def fetch():
    return 1


def retrying_class():
    return AsyncRetrying
"""
OLD_TEST = """\
from app import fetch

def test_fetch():
    assert fetch() == 1
"""


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def snapshot(folder: Path) -> dict[str, tuple[str, float]]:
    """Every file below `folder` (not through links): its hash and modification time."""
    out = {}
    for dirpath, _, files in os.walk(folder):
        for name in files:
            path = Path(dirpath, name)
            if not path.is_symlink():
                out[str(path.relative_to(folder))] = (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime)
    return out


def outside_tree(tmp_path: Path) -> Path:
    """A folder next to the fleet holding a service-looking project with old code and pins."""
    return make_fleet(tmp_path / "outside", {
        "other/requirements.txt": "tenacity==8.2.3\nasyncio-mqtt==0.16.2\n",
        "other/app.py": OLD_CODE,
        "lib/pyproject.toml": '[project]\nname = "outside-lib"\nversion = "1"\ndependencies = ["tenacity==8.2.3"]\n',
        "shared.py": OLD_CODE,
    })


def read_atimes(folder: Path) -> dict[str, int]:
    return {str(p): p.stat().st_atime_ns for p in folder.rglob("*") if p.is_file()}


def findings(res_stdout: str) -> list[dict]:
    inv = json.loads(res_stdout)
    return inv["findings"] + [f for s in inv["services"] for f in s.get("findings", [])]


# ---- config patterns ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("pattern, why", [
    ("../*", "leads outside the fleet root"),
    ("../outside/other", "leads outside the fleet root"),
    ("/tmp", "is an absolute path"),
    ("linked/*", "a link that leads outside the fleet root"),
])
@pytest.mark.parametrize("command", ["scan", "run"])
def test_config_pattern_outside_the_root_is_exit_2_naming_the_key(tmp_path: Path, pattern: str, why: str,
                                                                  command: str) -> None:
    outside = outside_tree(tmp_path)
    root = make_fleet(tmp_path / "fleet", {
        "fleetshift.toml": f'[fleet]\nservices = ["{pattern}"]\n',
        "svc/requirements.txt": "tenacity==8.2.3\n",
        "svc/app.py": OLD_CODE,
    })
    (root / "linked").symlink_to(outside, target_is_directory=True)
    before = snapshot(outside)
    fleet_before = snapshot(root)
    args = ("run", root, "--no-verify", "--yes") if command == "run" else ("scan", root)
    res = invoke(*args)
    assert res.exit_code == 2, res.output
    text = " ".join(res.output.split())
    assert "fleet.services" in text and why in text, text
    assert "fleet root" in text  # the fix names where patterns must point
    assert snapshot(outside) == before
    assert snapshot(root) == fleet_before  # nothing written, not even a run folder
    assert not (root / ".fleetshift" / "runs").exists()


def test_config_link_inside_the_root_is_followed(tmp_path: Path) -> None:
    root = make_fleet(tmp_path / "fleet", {
        "fleetshift.toml": '[fleet]\nservices = ["alias/*"]\n',
        "services/svc/requirements.txt": "tenacity==8.2.3\n",
        "services/svc/app.py": OLD_CODE,
    })
    (root / "alias").symlink_to(root / "services", target_is_directory=True)
    res = invoke("scan", root, "--json")
    assert res.exit_code == 0, res.output
    assert [s["service"] for s in json.loads(res.stdout)["services"]] == ["svc"]


# ---- requirement includes and path dependencies -------------------------------------------------------------


def test_includes_and_path_dependencies_outside_the_root_are_findings_never_read(tmp_path: Path) -> None:
    outside = outside_tree(tmp_path)
    root = make_fleet(tmp_path / "fleet", {
        "svc/requirements.txt": (
            "tenacity==8.2.3\n"
            "-r ../../outside/other/requirements.txt\n"
            "-c ../../outside/other/requirements.txt\n"
            f"-r {outside / 'other' / 'requirements.txt'}\n"
            "-e ../../outside/lib\n"
        ),
        "svc/app.py": OLD_CODE,
        "svc/tests/test_app.py": OLD_TEST,
        "poetry-svc/pyproject.toml": (
            '[tool.poetry]\nname = "p"\nversion = "1"\n\n[tool.poetry.dependencies]\npython = "^3.11"\n'
            'tenacity = "8.2.3"\noutside-lib = {path = "../../outside/lib"}\n'
        ),
        "pep-svc/pyproject.toml": (
            '[project]\nname = "q"\nversion = "1"\n'
            'dependencies = ["tenacity==8.2.3", "outside-lib @ file:../../outside/lib"]\n'
        ),
        "cfg-svc/setup.cfg": "[options]\ninstall_requires = file: ../../outside/other/requirements.txt\n",
    })
    before = snapshot(outside)
    res = invoke("scan", root, "--json")
    assert res.exit_code == 0, res.output
    inv = json.loads(res.stdout)
    found = [f for f in findings(res.stdout) if f["rule"] == "manifest/outside-fleet"]
    where = sorted((f["file"], f["line"]) for f in found)
    assert where == [
        ("cfg-svc/setup.cfg", 2),
        ("pep-svc/pyproject.toml", 4),
        ("poetry-svc/pyproject.toml", 8),
        ("svc/requirements.txt", 2), ("svc/requirements.txt", 3), ("svc/requirements.txt", 4),
        ("svc/requirements.txt", 5),
    ], found
    assert all("leads outside the fleet root" in f["message"] for f in found)
    # the outside file's pins (asyncio-mqtt) are not part of any service
    pins = {p["package"] for s in inv["services"] for p in s["pins"]}
    assert "asyncio-mqtt" not in pins and "aiomqtt" not in json.dumps(inv["services"])

    res = invoke("run", root, "--no-verify", "--yes")
    assert res.exit_code in (0, 1), res.output
    assert snapshot(outside) == before
    # the service itself was migrated, only inside the fleet
    assert "from tenacity import AsyncRetrying" in (root / "svc" / "app.py").read_text()
    assert "tenacity==8.2.3" not in (root / "svc" / "requirements.txt").read_text()
    assert "-r ../../outside/other/requirements.txt" in (root / "svc" / "requirements.txt").read_text()


# ---- links inside a service --------------------------------------------------------------------------------


def test_a_linked_file_is_left_untouched_with_a_finding_and_the_service_goes_on(tmp_path: Path) -> None:
    outside = outside_tree(tmp_path)
    root = make_fleet(tmp_path / "fleet", {
        "svc/requirements.txt": "tenacity==8.2.3\n",
        "svc/app.py": OLD_CODE,
        "svc/inner.py": OLD_CODE,
        "svc/tests/test_app.py": OLD_TEST,
        "svc2/requirements.txt": "tenacity==8.2.3\n",
        "svc2/app.py": OLD_CODE,
    })
    (root / "svc" / "shared.py").symlink_to(outside / "shared.py")
    (root / "svc" / "alias.py").symlink_to(root / "svc" / "inner.py")  # a link inside the root: still untouched
    (root / "svc" / "requirements-extra.txt").symlink_to(outside / "other" / "requirements.txt")
    (root / "svc" / "vendored").symlink_to(outside / "other", target_is_directory=True)
    (outside / "pytest.ini").write_text("[pytest]\nasyncio_mode = auto\n")
    (root / "svc" / "pytest.ini").symlink_to(outside / "pytest.ini")  # a config file a recipe would edit
    before = snapshot(outside)

    res = invoke("scan", root, "--json")
    assert res.exit_code == 0, res.output
    links = sorted(f["file"] for f in findings(res.stdout) if f["rule"] == "discover/symlink")
    assert links == ["svc/alias.py", "svc/pytest.ini", "svc/requirements-extra.txt", "svc/shared.py"], res.stdout
    inv = json.loads(res.stdout)
    svc = next(s for s in inv["services"] if s["service"] == "svc")
    assert {p["package"] for p in svc["pins"]} == {"tenacity"}  # not asyncio-mqtt from the linked file
    assert not any(site["file"].startswith(("svc/shared.py", "svc/alias.py", "svc/vendored/")) for site in svc["sites"])

    res = invoke("run", root, "--no-verify", "--yes")
    assert res.exit_code == 0, res.output
    status = json.loads(invoke("status", root, "--json").stdout)
    assert status["status"] == "completed"
    assert {s["name"] if "name" in s else s["service"]: s["status"] for s in status["services"]} == {
        "svc": "not-verified", "svc2": "not-verified"}
    assert snapshot(outside) == before
    assert (root / "svc" / "shared.py").is_symlink() and (root / "svc" / "alias.py").is_symlink()
    assert "from tenacity import AsyncRetrying" in (root / "svc" / "inner.py").read_text()  # the real file was migrated
    assert (root / "svc" / "requirements.txt").read_text() != "tenacity==8.2.3\n"
