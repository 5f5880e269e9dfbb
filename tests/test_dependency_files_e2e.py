"""Every dependency file of a service moves with the campaign, end to end through `fleetshift run` with
real uv against the index: requirements files at any depth (`deploy/provisioning/requirements/base.txt`),
constraints, files included with `-r`/`-c` from other folders, Docker build requirements and `pip install`
lines of a Dockerfile; the test environment still installs only the service's own requirements."""

from __future__ import annotations

import json
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from test_pins_e2e import CORPUS, assert_resolves, changed, git_snapshot, run
from typer.testing import CliRunner

from fleetshift.cli import app
from fleetshift.config import load_config
from fleetshift.discover import discover
from fleetshift.verify.install import plan_install

pytestmark = pytest.mark.slow


def corpus_copy(tmp_path: Path, name: str) -> Path:
    root = tmp_path / name
    shutil.copytree(CORPUS / name, root)
    git_snapshot(root)
    assert CliRunner().invoke(app, ["init", str(root)]).exit_code == 0
    return root


def test_deep_requirements_are_all_moved(tmp_path: Path) -> None:
    from fleetshift.resolve import Resolver

    root = corpus_copy(tmp_path, "deep-requirements")
    fleet = discover(root, load_config(root))
    (service,) = fleet.services  # docker/ and deploy/ belong to the project at the root
    files = {m.file for m in service.manifests}
    assert {"deploy/provisioning/requirements/base.txt", "deploy/provisioning/requirements/production.txt",
            "docker/requirements.txt", "constraints.txt"} <= files
    # the test environment is the service's own requirements, not the deployment's or the image's
    plan = plan_install(root, service)
    assert not any("deploy/" in r or "docker/" in r for r in plan.requirements), plan.requirements

    res = CliRunner().invoke(app, ["scan", str(root), "--json"])
    assert res.exit_code == 0, res.output
    scan = res.stdout
    code, dry = run(root, "run", "--dry-run")
    assert code == 0, dry
    code, output = run(root, "run", "--no-verify", "--yes")
    assert code == 0, output
    touched = set(changed(root))
    for rel in ("requirements.txt", "constraints.txt", "deploy/provisioning/requirements/base.txt",
                "docker/requirements.txt", "docker/Dockerfile", "gateway/store.py"):
        assert rel in touched, (rel, touched)
    for rel in ("requirements.txt", "deploy/provisioning/requirements/base.txt", "docker/requirements.txt",
                "docker/Dockerfile", "constraints.txt"):
        text = (root / rel).read_text()
        assert "influxdb-client" not in text and "tenacity==8" not in text, (rel, text)
    base = (root / "deploy/provisioning/requirements/base.txt").read_text().splitlines()
    assert base[0].startswith("# installed on the provisioned hosts") and base[-1] == "certifi>=2023.7.22"
    assert base[1].startswith("influxdb3-python==0.") and base[2].startswith("tenacity==9.")  # `==` stays `==`
    assert base[3].startswith("python-dotenv==1.2")
    docker = (root / "docker/Dockerfile").read_text()
    assert 'pip install --no-cache-dir "influxdb3-python==0.' in docker and "python-dotenv==1.2" in docker
    assert "extras [ciso] of influxdb-client dropped" in dry  # influxdb3-python has no [ciso]
    pins = {(p["file"], p["package"]) for p in json.loads(scan)["services"][0]["pins"]}
    assert ("deploy/provisioning/requirements/base.txt", "influxdb-client") in pins  # scan sees what run moves
    assert ("docker/requirements.txt", "tenacity") in pins
    assert (root / "deploy/provisioning/requirements/production.txt").read_text() == (
        CORPUS / "deep-requirements/deploy/provisioning/requirements/production.txt").read_text()
    assert_resolves(root, Resolver(tmp_path / "cache"))
    # a second run finds nothing left to do in any of them
    code, again = run(root, "run", "--dry-run")
    assert code == 0 and "0 file(s) would change" in again, again


def test_dockerfile_pin_from_a_build_argument_is_reported(tmp_path: Path) -> None:
    root = tmp_path / "fleet"
    (root / "svc").mkdir(parents=True)
    (root / "fleetshift.toml").write_text('[targets]\ntenacity = ">=9.1.2,<10"\n')
    (root / "svc/requirements.txt").write_text("tenacity==8.2.3\n")
    (root / "svc/svc.py").write_text("import tenacity\n")
    (root / "svc/Dockerfile").write_text(
        'FROM python:3.12-slim\nARG TENACITY=8.2.3\nRUN pip install "tenacity==${TENACITY}" \\\n    && pip check\n')
    git_snapshot(root)
    code, dry = run(root, "run", "--dry-run")
    assert code == 0, dry
    assert "svc/Dockerfile:3: manifest/cannot-edit" in dry and "build argument" in dry, dry
    code, output = run(root, "run", "--no-verify", "--yes")
    assert code == 0, output
    assert (root / "svc/requirements.txt").read_text().startswith("tenacity==9.")
    assert "svc/Dockerfile" not in changed(root)


def test_poetry_extras_go_in_the_table_form(tmp_path: Path) -> None:
    root = corpus_copy(tmp_path, "poetry-dataframes-numpy1")
    code, dry = run(root, "run", "--dry-run")
    assert code == 0, dry
    code, output = run(root, "run", "--no-verify", "--yes")
    assert code == 0, output
    doc = tomllib.loads((root / "pyproject.toml").read_text())
    deps = doc["tool"]["poetry"]["dependencies"]
    assert not any("[" in key for key in deps), deps  # never the key "influxdb3-python[pandas]"
    assert deps["influxdb3-python"]["extras"] == ["pandas"] and deps["influxdb3-python"]["version"].startswith("^0.")
    assert "influxdb-client" not in deps and deps["numpy"] == "<2"
    assert "extras [extra] of influxdb-client dropped" in dry
    # a second run has nothing to add, and no bogus dropped-extras finding
    code, again = run(root, "run", "--dry-run")
    assert code == 0 and "dropped-extras" not in again and "pyproject.toml" not in again.split("dry run:")[-1], again


def _installed_suite(root: Path, skip: str = "") -> subprocess.CompletedProcess[str]:
    """The project's tests in a real environment of what its manifest now says (each pin as written)."""
    from uvenv import run as run_python
    from uvenv import uv_env

    (manifest,) = discover(root, load_config(root)).services[0].manifests
    reqs = [f"{p.package}{'[' + ','.join(p.extras) + ']' if p.extras else ''}{p.spec}"
            for p in manifest.pins if p.package != skip]
    python = uv_env(reqs)
    return run_python(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=root,
                      env={"PYTHONPATH": str(root)})


def test_numpy1_project_gets_a_pyarrow_that_imports(tmp_path: Path) -> None:
    """influxdb3-python pulls in pyarrow, and pyarrow 26 on imports only on NumPy 2 though no metadata says so:
    uv resolves the project's `numpy = "<2"` beside pyarrow 26 without a word. The run bounds pyarrow beside the
    target and says why; the migrated suite then imports, and without that bound it does not."""
    root = corpus_copy(tmp_path, "poetry-dataframes-numpy1")
    code, dry = run(root, "run", "--dry-run")
    assert code == 0, dry
    assert "pins/import-conflict" in dry and "numpy<2 (pyproject.toml:13)" in dry and "pyarrow<26 added" in dry
    code, output = run(root, "run", "--no-verify", "--yes")
    assert code == 0, output
    text = (root / "pyproject.toml").read_text()
    lines = text.splitlines()
    at = next(i for i, ln in enumerate(lines) if ln.startswith("influxdb3-python = "))
    assert lines[at + 1].startswith('pyarrow = "<26"  # pyarrow>=26 imports only with numpy>=2'), text
    assert 'numpy = "<2"' in text  # the project's own pin is not moved
    fixed = _installed_suite(root)
    assert fixed.returncode == 0, fixed.stdout[-3000:] + fixed.stderr[-2000:]
    unbounded = _installed_suite(root, skip="pyarrow")
    assert unbounded.returncode != 0 and "pyarrow requires NumPy 2.0 or newer" in unbounded.stdout, unbounded.stdout[-3000:]
    code, again = run(root, "run", "--dry-run")
    assert code == 0 and "import-conflict" not in again and "0 file(s) would change" in again, again


def test_minimum_pins_stay_exact(tmp_path: Path) -> None:
    """A library's `requirements/install-min.txt` (tox -e min): the pins whose floor the library keeps stay,
    the test runner moves to the oldest release its target admits, every line stays `==`; the oldest env
    then installs and its suite passes."""
    from uvenv import run as run_python
    from uvenv import uv_env

    root = corpus_copy(tmp_path, "lib-min-pins")
    code, dry = run(root, "run", "--dry-run")
    assert code == 0 and "pins/offline" not in dry, dry  # tox's `extras = test` (`.[test]`) is not sent to uv
    code, output = run(root, "run", "--no-verify", "--yes")
    assert code == 0, output
    lines = (root / "requirements/install-min.txt").read_text().splitlines()
    original = (CORPUS / "lib-min-pins/requirements/install-min.txt").read_text().splitlines()
    assert lines[:4] == original[:4]  # comments; tenacity==8.2.0 and python-dotenv==1.0.0: floors kept
    assert lines[4] == "pytest==9.0.2", lines  # the oldest pytest 9 the target >=9.0.2,<10 admits
    assert "tenacity>=8.2,<10" in (root / "pyproject.toml").read_text()
    python = uv_env([f"-e{root}", *(ln for ln in lines if ln and not ln.startswith("#"))])
    done = run_python(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=root)
    assert done.returncode == 0 and "3 passed" in done.stdout, done.stdout[-3000:]


def test_application_minimum_pins_move_to_the_oldest_target_or_stay_with_a_finding(tmp_path: Path) -> None:
    root = tmp_path / "fleet"
    files = {
        "fleetshift.toml": '[targets]\ntenacity = ">=9.1.2,<10"\npytest = ">=9.0.2,<10"\n',
        "svc/requirements.txt": "tenacity==8.2.3\npytest==8.3.5\n",
        "svc/requirements-min.txt": "tenacity==8.2.0  # oldest supported\n",
        "svc/ci/oldest-deps.txt": "pytest==8.0.0\npytest-describe==2.2.0\n",
        # a file known as minimum pins only by the tox env that installs it
        "svc/requirements/floor.txt": "tenacity==8.2.1\n",
        "svc/tox.ini": "[tox]\nenvlist = py312, py312-oldestdeps\n\n[testenv]\ndeps =\n    -r requirements.txt\n"
                       "    oldestdeps: -r requirements/floor.txt\ncommands = pytest\n",
        "svc/svc.py": "import tenacity\n",
        "svc/tests/test_svc.py": "def test_ok():\n    assert True\n",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    git_snapshot(root)
    code, dry = run(root, "run", "--dry-run")
    assert code == 0, dry
    code, output = run(root, "run", "--no-verify", "--yes")
    assert code == 0, output
    assert (root / "svc/requirements-min.txt").read_text() == "tenacity==9.1.2  # oldest supported\n"
    assert (root / "svc/requirements/floor.txt").read_text() == "tenacity==9.1.2\n"
    (service,) = discover(root, load_config(root)).services
    assert not any("floor.txt" in r or "min" in r for r in plan_install(root, service).requirements)
    assert (root / "svc/requirements.txt").read_text().startswith("tenacity==9.")
    # every pytest-describe 2.x needs pytest<9: the exact minimum pin is left as it is, and said so
    assert (root / "svc/ci/oldest-deps.txt").read_text() == files["svc/ci/oldest-deps.txt"]
    assert "svc/ci/oldest-deps.txt:1: pins/minimum" in dry and "left as it is" in dry, dry


def test_a_deep_file_on_the_old_release_keeps_the_migration_to_do(tmp_path: Path) -> None:
    """The root requirements are already on tenacity 9, the production requirements two folders deep are not:
    scan says there is work, and the run moves that file."""
    root = tmp_path / "fleet"
    files = {
        "fleetshift.toml": '[targets]\ntenacity = ">=9.1.2,<10"\n',
        "svc/requirements.txt": "tenacity==9.1.2\n",
        "svc/deploy/provisioning/requirements/base.txt": "tenacity==8.2.3\nrequests==2.32.3\n",
        "svc/svc.py": "import tenacity\n",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    git_snapshot(root)
    res = CliRunner().invoke(app, ["scan", str(root), "--json"])
    (svc,) = json.loads(res.stdout)["services"]
    (use,) = [u for u in svc["uses"] if u["recipe"] == "tenacity"]
    assert not use["already_done"] and "deploy/provisioning/requirements/base.txt:1" in use["reason"], use
    code, output = run(root, "run", "--no-verify", "--yes")
    assert code == 0, output
    assert (root / "svc/deploy/provisioning/requirements/base.txt").read_text().startswith("tenacity==9.")
