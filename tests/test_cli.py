"""The CLI end to end on a copy of the demo fleet."""

import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fleet_factory import make_fleet
from typer.testing import CliRunner

from fleetshift.cli import app
from fleetshift.model import ChangeSet, Phase, Service

DEMO = Path(__file__).resolve().parents[1] / "examples" / "homeiq"
LIBRARIES = {"pytest", "pytest-asyncio", "tenacity", "aiomqtt", "influxdb3", "python-dotenv"}
runner = CliRunner()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dst = tmp_path_factory.mktemp("fleet") / "homeiq"
    shutil.copytree(DEMO, dst, ignore=shutil.ignore_patterns(".fleetshift", "__pycache__", ".pytest_cache"))
    return dst


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def test_scan_json_lists_services_pins_and_sites(demo: Path) -> None:
    res = invoke("scan", demo, "--json")
    assert res.exit_code == 0, res.output
    inv = json.loads(res.stdout)
    names = {s["service"] for s in inv["services"]}
    assert {"data-api", "weather-api", "energy-correlator"} <= names
    found = {u["recipe"] for s in inv["services"] for u in s["uses"] if not u["already_done"]}
    assert found == LIBRARIES
    for s in inv["services"]:
        for site in s["sites"]:
            assert site["file"].startswith(s["path"] + "/") and site["rule"]
            assert site["line"] > 0 or site["action"] == "info"  # whole-file notes may have no line
    weather = next(s for s in inv["services"] if s["service"] == "weather-api")
    assert all(u["already_done"] for u in weather["uses"])
    assert not [x for x in weather["sites"] if x["action"] != "info"]


def test_plan_json_phases_and_order(demo: Path) -> None:
    res = invoke("plan", demo, "--json")
    assert res.exit_code == 0, res.output
    plan = json.loads(res.stdout)
    services = {s["service"]: s for s in plan["services"]}
    for s in services.values():
        assert s["phase"] in {p.value for p in Phase} and s["reasons"]
    assert services["data-api"]["phase"] == "D"
    for s in services.values():
        for dep in s["depends_on"]:
            assert services[dep]["order"] < s["order"], (s["service"], dep)


def test_plan_writes_reports(demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    res = invoke("plan", demo, "--out", out)
    assert res.exit_code == 0, res.output
    for name in ("dependency-analysis.md", "risk-assessment.md", "migration-order.md", "service-groups.json", "inventory.json", "plan.json"):
        assert (out / name).stat().st_size > 0, name
    groups = json.loads((out / "service-groups.json").read_text())
    assert set(groups["by_phase"]) == {"A", "B", "C", "D"}
    assert "data-api" in (out / "dependency-analysis.md").read_text()


def test_scan_table_and_recipes_catalogue(demo: Path) -> None:
    res = invoke("scan", demo)
    assert res.exit_code == 0 and "data-api" in res.stdout
    res = invoke("recipes")
    assert res.exit_code == 0
    for rid in LIBRARIES:
        assert rid in res.stdout


def test_empty_folder_and_missing_path(tmp_path: Path) -> None:
    res = invoke("scan", tmp_path)
    assert res.exit_code == 0 and "No services found" in res.stdout
    res = invoke("plan", tmp_path / "nope")
    assert res.exit_code == 2 and "no such folder" in res.stderr


def test_bad_config_exits_2_naming_the_key(tmp_path: Path) -> None:
    (tmp_path / "fleetshift.toml").write_text("[fleet]\nbatch_size = -1\n")
    res = invoke("scan", tmp_path)
    assert res.exit_code == 2 and "fleet.batch_size" in res.stderr


def test_init_writes_a_config_that_loads(tmp_path: Path) -> None:
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "requirements.txt").write_text("tenacity==8.2.3\n")
    res = invoke("init", tmp_path)
    assert res.exit_code == 0, res.output
    text = (tmp_path / "fleetshift.toml").read_text()
    assert "tenacity" in text
    assert invoke("scan", tmp_path).exit_code == 0
    assert invoke("init", tmp_path).exit_code == 2  # refuses to overwrite


def test_status_and_watch_read_the_run_state(tmp_path: Path) -> None:
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "requirements.txt").write_text("tenacity==8.2.3\n")
    (tmp_path / "svc" / "app.py").write_text("from tenacity._asyncio import AsyncRetrying\n")
    assert invoke("status", tmp_path).exit_code == 2  # no run yet: a clear error
    res = invoke("run", tmp_path, "--no-verify", "--yes")
    assert res.exit_code == 0, res.output
    res = invoke("status", tmp_path)
    assert res.exit_code == 0 and "svc" in res.stdout and "completed" in res.stdout
    res = invoke("status", tmp_path, "--watch")  # the run has stopped: watching returns at once
    # --no-verify: applied, not verified, never counted as passed
    assert res.exit_code == 0 and "1/1 done, 0 passed, 1 applied not verified, 0 failed" in res.stdout
    run_dir = next((tmp_path / ".fleetshift" / "runs").iterdir())
    results = json.loads((run_dir / "results.json").read_text())
    assert [s["name"] for s in results["services"]] == ["svc"] and not results["services"][0]["overall_success"]
    assert results["services"][0]["verdict"] == "not-verified" and results["services"][0]["kept"]
    page = (run_dir / "report.html").read_text()
    cells: list[str] = []

    class Cells(HTMLParser):
        def handle_data(self, data: str) -> None:
            cells.append(data.strip())

    Cells().feed(page)
    assert "svc" in cells and "tenacity" in cells and "applied, not verified" in cells


def test_a_crash_inside_one_service_fails_only_that_service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import fleetshift.orchestrate as orchestrate

    for name in ("good", "bad"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "requirements.txt").write_text("tenacity==8.2.3\n")
        (tmp_path / name / "app.py").write_text("from tenacity._asyncio import AsyncRetrying\n")
    original = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    real = orchestrate.rewrite_service

    def flaky(root: Path, service: Service, *args: object, **kwargs: object) -> ChangeSet:  # a deliberate fault
        if service.name == "bad":
            raise RuntimeError("disk on fire")
        return real(root, service, *args, **kwargs)

    monkeypatch.setattr(orchestrate, "rewrite_service", flaky)
    res = invoke("run", tmp_path, "--no-verify", "--yes", "--threshold", "100%")
    assert res.exit_code == 1, res.output
    assert "disk on fire" in res.stdout
    assert (tmp_path / "bad" / "app.py").read_bytes() == original[tmp_path / "bad" / "app.py"]
    assert b"_asyncio" not in (tmp_path / "good" / "app.py").read_bytes()
    run_dir = next((tmp_path / ".fleetshift" / "runs").iterdir())
    results = {s["name"]: s for s in json.loads((run_dir / "results.json").read_text())["services"]}
    assert results["good"]["verdict"] == "not-verified" and results["good"]["kept"]  # --no-verify
    assert results["bad"]["status"] == "failed" and results["bad"]["verdict"] == "failed"
    assert not results["bad"]["kept"] and not results["bad"]["overall_success"]


@pytest.mark.parametrize("rid", sorted(LIBRARIES))
def test_recipes_show_and_guide_come_from_the_recipe(rid: str) -> None:
    from fleetshift.recipes import get

    recipe = get(rid)
    shown = invoke("recipes", "show", rid)
    assert shown.exit_code == 0
    guide = invoke("recipes", "guide", rid)
    assert guide.exit_code == 0 and guide.stdout.startswith("# Migrating ")
    for rule in recipe.rules:  # every rule, with its link, in both
        assert rule.id in shown.stdout and f"`{rule.id}`" in guide.stdout
        if rule.link:
            assert rule.link in shown.stdout and f"<{rule.link}>" in guide.stdout
    assert invoke("recipes", "show", "no-such-recipe").exit_code == 2


def _every_key_has_a_comment(text: str) -> None:
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line and not line.startswith(("#", "[")) and "=" in line:
            assert "#" in line or lines[i - 1].startswith("#"), f"no comment for: {line}"


def test_init_on_a_library_repository_writes_a_config_for_its_root(tmp_path: Path) -> None:
    from test_discover_scan import LIBRARY_REPO

    from fleetshift.config import load_config

    root = make_fleet(tmp_path / "pollwise", {**LIBRARY_REPO, "tox.ini": "[tox]\nenvlist = py38,py312\n[testenv]\ncommands = pytest {posargs:tests}\n"})
    res = invoke("init", root)
    assert res.exit_code == 0, res.output
    for words in ("library", ">=3.8", "pytest tests (tox.ini [testenv])", "docs: documentation folder",
                  "examples/mqtt: examples folder", "Targets written for: pytest, tenacity"):
        assert words in res.stdout, words
    text = (root / "fleetshift.toml").read_text()
    assert 'services = ["."]' in text
    _every_key_has_a_comment(text)
    config = load_config(root)
    assert set(config.targets) == {"pytest", "tenacity"}
    for key in ("test_command", "python", "python_floor", "groups", "extras", "keep_unverified", "timeout", "env", "health"):
        assert f"# {key} = " in text, key
    assert '# [services."."]' in text and '# test_command = "pytest tests"' in text
    res = invoke("scan", root, "--json")
    inv = json.loads(res.stdout)
    [svc] = inv["services"]
    assert svc["path"] == "" and svc["project"]["kind"] == "library"
    assert svc["project"]["pythons"]["versions"] == ["3.8", "3.12"]
    assert svc["project"]["test_command"] == {"command": "pytest tests", "source": "tox.ini [testenv]", "runner": "pytest"}
    assert ["docs", "documentation folder, not a service"] in inv["skipped"]
    assert not [s for s in svc["sites"] if s["file"].startswith(("examples/", "docs/", "tests/fixtures/"))]
    res = invoke("plan", root, "--json")
    plan = json.loads(res.stdout)
    assert plan["services"][0]["project"]["pythons"]["spec"] == ">=3.8" and plan["skipped"]


def test_init_with_nothing_to_migrate_says_so_and_comments_the_targets(tmp_path: Path) -> None:
    from fleetshift.config import default_targets, load_config

    root = make_fleet(tmp_path, {
        "api/pyproject.toml": '[project]\nname = "api"\nversion = "1"\nrequires-python = ">=3.8"\ndependencies = ["httpx"]\n',
        "api/api/__init__.py": "import httpx\n",
        "worker/requirements.txt": "requests==2.31.0\n",
    })
    res = invoke("init", root)
    assert res.exit_code == 0, res.output
    assert "Nothing migratable found" in res.stdout
    text = (root / "fleetshift.toml").read_text()
    assert "\n[targets]" not in text and "# [targets]" in text and '# tenacity = ">=9.1.2,<10"' in text
    assert 'services = ["api", "worker"]' in text
    _every_key_has_a_comment(text)
    assert load_config(root).targets == default_targets()


def test_init_patterns_match_what_discovery_found(tmp_path: Path) -> None:
    from fleetshift.config import load_config
    from fleetshift.discover import discover

    root = make_fleet(tmp_path, {
        "services/a/requirements.txt": "tenacity==8.2.3\n",
        "services/b/requirements.txt": "tenacity==8.2.3\n",
        "services/notes/README.md": "no manifest\n",
        "libs/common/pyproject.toml": '[project]\nname = "common"\nversion = "1"\n',
        "tools/x/requirements.txt": "y\n",
        "tools/x/inner/requirements.txt": "z\n",
        "docs/requirements.txt": "sphinx\n",
    })
    found = sorted(s.path for s in discover(root, load_config(root)).services)
    res = invoke("init", root)
    assert res.exit_code == 0, res.output
    text = (root / "fleetshift.toml").read_text()
    assert 'services = ["libs/*", "services/*", "tools/*"]' in text
    assert sorted(s.path for s in discover(root, load_config(root)).services) == found
    assert "# [services.a]" in text and "tenacity" in text


def test_a_bad_service_pattern_exits_2_naming_the_key(tmp_path: Path) -> None:
    make_fleet(tmp_path, {"svc/requirements.txt": "x\n", "fleetshift.toml": '[fleet]\nservices = ["../*"]\n'})
    for command in ("scan", "plan", "check"):
        res = invoke(command, tmp_path)
        assert res.exit_code == 2 and "fleet.services" in res.stderr and "Fix:" in res.stderr, command


def test_scan_and_plan_tables_show_the_projects(tmp_path: Path) -> None:
    root = make_fleet(tmp_path, {
        "pyproject.toml": '[tool.poetry]\nname = "ingest"\npackage-mode = false\n[tool.poetry.dependencies]\npython = "^3.9"\n'
                          'tenacity = "^8.2"\n',
        "poetry.lock": "# This file is automatically @generated by Poetry 1.8.3 and should not be changed by hand.\n",
        "ingest.py": "from tenacity._asyncio import AsyncRetrying\n",
        "examples/demo/requirements.txt": "ingest\n",
    })
    for command in ("scan", "plan"):
        res = invoke(command, root)
        assert res.exit_code == 0, res.output
        for words in ("application", ">=3.9,<4.0", "poetry.lock", "python -m pytest (default)",
                      "examples/demo: examples folder"):
            assert words in res.stdout, (command, words)
    out = tmp_path / "reports"
    assert invoke("plan", root, "--out", out).exit_code == 0
    analysis = (out / "dependency-analysis.md").read_text()
    assert "## Projects" in analysis and ">=3.9,<4.0" in analysis and "poetry.lock (poetry lock --no-update)" in analysis and "`examples/demo`: examples folder" in analysis


def test_no_services_names_the_folders_passed_over(tmp_path: Path) -> None:
    make_fleet(tmp_path, {"docs/requirements.txt": "sphinx\nfuro\n"})
    res = invoke("scan", tmp_path)
    assert res.exit_code == 0 and "No services found" in res.stdout and "docs: documentation folder" in res.stdout


CORPUS = Path(__file__).resolve().parent / "projects"
IMPORTS = {"pytest": ("pytest",), "pytest-asyncio": ("pytest_asyncio", "pytest.mark.asyncio"), "tenacity": ("tenacity",),
           "aiomqtt": ("aiomqtt", "asyncio_mqtt"), "influxdb3-python": ("influxdb3", "influxdb_client"), "python-dotenv": ("dotenv",)}


@pytest.mark.parametrize("name", sorted(p.name for p in CORPUS.iterdir() if p.is_dir()))
def test_init_then_scan_on_each_corpus_project(name: str, tmp_path: Path) -> None:
    import tomllib

    from fleetshift.config import load_config

    root = tmp_path / name
    shutil.copytree(CORPUS / name, root)
    res = invoke("init", root)
    assert res.exit_code == 0, res.output
    text = (root / "fleetshift.toml").read_text()
    assert 'services = ["."]' in text
    _every_key_has_a_comment(text)
    targets = tomllib.loads(text).get("targets", {})
    manifests = " ".join(p.read_text(errors="replace") for p in root.rglob("*")
                         if p.is_file() and p.name in {"pyproject.toml", "setup.py", "setup.cfg"} | {q.name for q in root.glob("requirements*")})
    code = " ".join(p.read_text(errors="replace") for p in root.rglob("*.py"))
    for package in targets:  # a target only for a library the project pins or uses
        t = targets[package]
        names = (package, t["replaces"]) if isinstance(t, dict) else (package,)
        assert any(n in manifests for n in names) or any(i in code for i in IMPORTS[package]), (name, package)
    if name == "py38-no-targets":
        assert set(targets) == {"pytest", "pytest-asyncio"}
    res = invoke("scan", root, "--json")
    assert res.exit_code == 0, res.output
    inv = json.loads(res.stdout)
    assert [s["path"] for s in inv["services"]] == [""]
    assert inv["services"][0]["project"]["kind"] in {"library", "application"}
    assert load_config(root).service_globs == (".",)


@pytest.mark.parametrize("name", ["lib-docs-requirements", "app-with-examples"])
def test_init_then_dry_run_at_the_root_of_a_single_repository(name: str, tmp_path: Path) -> None:
    root = tmp_path / name
    shutil.copytree(CORPUS / name, root)
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file() and ".fleetshift" not in p.parts}
    assert invoke("init", root).exit_code == 0
    res = invoke("run", root, "--dry-run")
    assert res.exit_code == 0, res.output
    changed = [line[6:] for line in res.stdout.splitlines() if line.startswith("+++ b/")]
    assert changed, res.stdout  # the root project itself is migrated
    assert not [f for f in changed if f.startswith(("docs/", "examples/", "benchmarks/"))]
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file() and p.name != "fleetshift.toml" and ".fleetshift" not in p.parts} == before



def test_a_run_that_verifies_nothing_never_loads_the_verify_package(tmp_path: Path) -> None:
    """orchestrate and the local executor import fleetshift.verify on first use: a --no-verify run (a fresh
    process) never loads it."""
    import os
    import subprocess
    import sys

    import fleetshift

    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "requirements.txt").write_text("tenacity==8.2.3\n")
    (tmp_path / "svc" / "app.py").write_text("from tenacity._asyncio import AsyncRetrying\n")
    probe = (
        "import sys\n"
        "from fleetshift.cli import main\n"
        "sys.argv = ['fleetshift', 'run', sys.argv[1], '--no-verify', '--yes']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "print('verify', 'fleetshift.verify' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(fleetshift.__file__).parents[1])}  # this fleetshift, not an installed one
    done = subprocess.run([sys.executable, "-c", probe, str(tmp_path)], capture_output=True, text=True, timeout=300,
                          env=env)
    assert done.returncode == 0, done.stderr
    assert "verify False" in done.stdout, done.stdout
