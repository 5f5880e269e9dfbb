"""What gets written into manifests and locks, end to end with real uv against the index: `run --no-verify
--yes` on small real projects, then every manifest written must resolve with `uv pip compile` for every
Python the project still declares; blocking plugins move with their reason; locks are regenerated (or
flagged), never hand-edited; a library keeps its ranges wide; a project that uses neither tenacity nor
python-dotenv gets nothing for them."""

from __future__ import annotations

import subprocess
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest
from packaging.version import Version
from typer.testing import CliRunner

from fleetshift.cli import app
from fleetshift.config import load_config
from fleetshift.discover import discover
from fleetshift.manifests import read_manifest
from fleetshift.model import Project, ProjectKind
from fleetshift.recipes._floors import declared_model, pythons_to_check
from fleetshift.resolve import Resolver, install_sets, uv_bin, uv_env
from fleetshift.rewrite import rewrite_service

pytestmark = pytest.mark.slow


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def run(root: Path, *args: str) -> tuple[int, str]:
    res = CliRunner().invoke(app, [*args, str(root)] if args[0] != "run" else ["run", str(root), *args[1:]])
    return res.exit_code, res.output


def git_snapshot(root: Path) -> None:
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "before"], cwd=root, check=True)


def changed(root: Path) -> list[str]:
    out = subprocess.run(["git", "diff", "--name-only"], cwd=root, capture_output=True, text=True, check=True).stdout
    return out.split()


def assert_resolves(root: Path, resolver: Resolver) -> None:
    """Every manifest of every service resolves with uv for every Python the service declares (each set of
    pins installed together: the runtime pins with each group, extra or requirements file)."""
    config = load_config(root)
    fleet = discover(root, config)
    generated = {lk.file for s in fleet.services for lk in s.project.locks}
    for service in fleet.services:
        texts = {rel: (root / rel).read_text() for rel in service.config_files}
        pythons = pythons_to_check(declared_model(service, texts))
        pins = [p for m in service.manifests if m.file not in generated for p in read_manifest(root, m.file)[0].pins
                if not p.path]
        for group in install_sets(pins, service.path):
            reqs = [f"{p.package}{'[' + ','.join(p.extras) + ']' if p.extras else ''}{p.spec}"
                    + (f"; {p.marker}" if p.marker else "") for p in group]
            for py in pythons:
                res = resolver.compile(reqs, py)
                assert res.ok, f"{service.name} does not resolve on Python {py}: {res.reason()}"


# ---- the project corpus (tests/projects): init, dry run, run --no-verify --yes -----------------------------

CORPUS = Path(__file__).parent / "projects"


def corpus_run(tmp_path: Path, name: str) -> tuple[Path, str]:
    """A corpus project copied out and migrated: `init`, a dry run (its output returned: the findings),
    then `run --no-verify --yes`; every manifest must then resolve for every Python it declares."""
    import shutil

    root = tmp_path / name
    shutil.copytree(CORPUS / name, root)
    git_snapshot(root)
    assert CliRunner().invoke(app, ["init", str(root)]).exit_code == 0
    code, dry = run(root, "run", "--dry-run")
    assert code == 0, dry
    code, output = run(root, "run", "--no-verify", "--yes")
    assert code == 0, output
    assert_resolves(root, Resolver(tmp_path / "cache"))
    return root, dry


def test_corpus_plugin_capping_pytest_is_moved_with_its_reason(tmp_path: Path) -> None:
    root, dry = corpus_run(tmp_path, "plugin-caps-pytest")
    line = next(ln for ln in (root / "requirements-test.txt").read_text().splitlines() if "pytest-describe" in ln)
    assert line.startswith("pytest-describe~=3.") and line.index("#") == 29  # style and comment column kept
    assert "pins/companion: pytest-describe~=2.2" in dry and "lowest release that resolves" in dry


def test_corpus_poetry_library_on_36_is_blocked_by_its_floor(tmp_path: Path) -> None:
    root, dry = corpus_run(tmp_path, "poetry-lib-py36")
    assert "blocked by Python 3.6" in dry
    assert "pyproject.toml" not in changed(root) and "tox.ini" not in changed(root)


def test_corpus_library_runtime_ranges_stay_wide(tmp_path: Path) -> None:
    root, _ = corpus_run(tmp_path, "lib-wide-ranges")
    original = (CORPUS / "lib-wide-ranges" / "pyproject.toml").read_text()
    text = (root / "pyproject.toml").read_text()
    assert "python-dotenv>=0.21.0" in original and "python-dotenv>=0.21.0" in text
    assert 'retry = ["tenacity"]' in original and 'retry = ["tenacity"]' in text


def test_corpus_project_using_neither_gets_nothing_for_them(tmp_path: Path) -> None:
    _, dry = corpus_run(tmp_path, "py38-no-targets")
    assert "tenacity" not in dry and "python-dotenv" not in dry


@pytest.mark.parametrize(("name", "lock"), [("pip-compiled", "requirements.txt"), ("uv-project", "uv.lock"),
                                            ("poetry-app-py39", "poetry.lock"), ("poetry-lock-vs-fresh", "poetry.lock")])
def test_corpus_locks_are_regenerated_or_flagged(tmp_path: Path, name: str, lock: str) -> None:
    root, dry = corpus_run(tmp_path, name)
    touched = changed(root)
    sources = [f for f in touched if f.endswith(("pyproject.toml", ".in"))]
    if not sources:
        return
    assert lock in touched or f"pins/stale-lock: {lock} is stale" in dry, (touched, dry[-2000:])
    if lock == "requirements.txt" and lock in touched:
        before = (CORPUS / name / lock).read_text().splitlines()[:2]
        after = (root / lock).read_text()
        assert after.splitlines()[:2] == before and "# via" in after  # compiled again, header as it was


# ---- an application whose pytest plugin caps pytest<9 ------------------------------------------------


def test_app_plugin_capping_pytest_moves_with_its_reason(tmp_path: Path) -> None:
    root = write(tmp_path / "fleet", {
        "fleetshift.toml": '[targets]\npytest = ">=9.0.2,<10"\n',
        "api/requirements.txt": """\
            requests==2.32.3          # http
            pytest==8.3.5             # test runner
            syrupy>=4,<5              # snapshot tests
            """,
        "api/tests/test_api.py": "import pytest\n\n\ndef test_ok(snapshot):\n    assert snapshot == snapshot\n",
    })
    git_snapshot(root)
    code, output = run(root, "run", "--no-verify", "--yes")
    assert code == 0, output
    text = (root / "api/requirements.txt").read_text()
    lines = text.splitlines()
    pytest_line = next(ln for ln in lines if ln.startswith("pytest=="))
    assert Version(pytest_line.split("==")[1].split()[0]) >= Version("9.0.2")  # `==` stays `==`
    # aligned comments keep their column
    assert {ln.index("#") for ln in lines} == {26}, text
    syrupy = next(ln for ln in lines if ln.startswith("syrupy"))
    assert syrupy.startswith("syrupy>=5"), syrupy
    assert lines[0] == "requests==2.32.3          # http"
    assert_resolves(root, Resolver(tmp_path / "cache"))
    dry = subprocess.run(["git", "stash"], cwd=root, capture_output=True)
    assert dry.returncode == 0
    code, output = run(root, "run", "--dry-run")
    assert "pins/companion" in output and "syrupy>=4,<5" in output and "lowest release" in output


# ---- a Poetry library on ^3.6 with tox py36..py38: keep, so it is blocked ------------------------------


def test_poetry_library_on_36_keeps_its_floor_and_is_blocked(tmp_path: Path) -> None:
    root = write(tmp_path / "fleet", {
        "fleetshift.toml": '[targets]\npytest = ">=9.0.2,<10"\ntenacity = ">=9.1.2,<10"\n\n'
                           '[services.oldlib]\npython_floor = "keep"\n',
        "oldlib/pyproject.toml": """\
            [tool.poetry]
            name = "oldlib"
            version = "1.0.0"

            [tool.poetry.dependencies]
            python = "^3.6"
            tenacity = "^8.2"

            [tool.poetry.group.dev.dependencies]
            pytest = "^7.0"

            [build-system]
            requires = ["poetry-core>=1.0.0"]
            build-backend = "poetry.core.masonry.api"
            """,
        "oldlib/tox.ini": "[tox]\nenvlist = py36,py37,py38\n",
        "oldlib/oldlib/__init__.py": "from tenacity import retry\n\n\n@retry\ndef f():\n    return 1\n",
        "oldlib/tests/test_f.py": "from oldlib import f\n\n\ndef test_f():\n    assert f() == 1\n",
    })
    git_snapshot(root)
    code, output = run(root, "run", "--dry-run")
    assert code == 0, output
    assert "blocked by Python 3.6" in output
    assert "+++ b/oldlib/pyproject.toml" not in output  # left on its pins
    assert "tox.ini" not in "".join(ln for ln in output.splitlines() if ln.startswith("+++"))


def test_raise_moves_the_floor_everywhere_it_is_declared(tmp_path: Path) -> None:
    root = write(tmp_path / "fleet", {
        "fleetshift.toml": '[targets]\npytest = ">=9.0.2,<10"\n',
        "svc/pyproject.toml": """\
            [project]
            name = "svc"
            version = "1"
            requires-python = ">=3.8"
            dependencies = []
            classifiers = [
                "Programming Language :: Python :: 3.8",
                "Programming Language :: Python :: 3.12",
            ]

            [project.optional-dependencies]
            test = ["pytest>=7,<9"]
            """,
        "svc/tests/test_x.py": "def test_x():\n    assert True\n",
    })
    git_snapshot(root)
    code, output = run(root, "run", "--no-verify", "--yes")
    assert code == 0, output
    text = (root / "svc/pyproject.toml").read_text()
    assert 'requires-python = ">=3.10"' in text and "Python :: 3.8" not in text and "Python :: 3.12" in text
    assert "pytest>=9.0.2,<10" in text
    assert_resolves(root, Resolver(tmp_path / "cache"))


# ---- a published library: runtime ranges stay wide ----------------------------------------------------


def test_library_keeps_runtime_ranges_wide(tmp_path: Path) -> None:
    root = write(tmp_path / "fleet", {
        "fleetshift.toml": '[targets]\npython-dotenv = ">=1.2.1,<2"\ntenacity = ">=9.1.2,<10"\n',
        "lib/pyproject.toml": """\
            [build-system]
            requires = ["hatchling"]
            build-backend = "hatchling.build"

            [project]
            name = "envlib"
            version = "0.3.0"
            requires-python = ">=3.10"
            dependencies = ["python-dotenv>=0.21", "tenacity>=8.2,<9"]

            [project.optional-dependencies]
            retry = ["tenacity"]
            test = ["pytest==8.3.5"]
            """,
        "lib/envlib/__init__.py": "from dotenv import load_dotenv\n\n\ndef load(p):\n    return load_dotenv(p)\n",
        "lib/envlib/retrying.py": "import tenacity\n\n\n@tenacity.retry(stop=tenacity.stop_after_attempt(2))\ndef f():\n    return 1\n",
    })
    config = load_config(root)
    fleet = discover(root, config)
    service = replace(fleet.services[0], project=Project(kind=ProjectKind.LIBRARY, name="envlib"))
    cs = rewrite_service(root, service, ["tenacity", "python-dotenv"], config, resolver=Resolver(root))
    new = {c.file: c.new.decode() for c in cs.changes if c.new is not None}
    text = new.get("lib/pyproject.toml", (root / "lib/pyproject.toml").read_text())
    assert '"python-dotenv>=0.21"' in text  # wide enough already: stays
    assert '"tenacity>=8.2,<10"' in text  # floor kept, upper bound raised
    assert 'retry = ["tenacity"]' in text  # unpinned extra stays unpinned
    assert '"pytest==8.3.5"' in text  # not targeted: untouched


# ---- a project that uses neither tenacity nor python-dotenv ---------------------------------------------


def test_no_findings_for_libraries_a_project_does_not_use(tmp_path: Path) -> None:
    root = write(tmp_path / "fleet", {
        "fleetshift.toml": '[targets]\ntenacity = ">=9.1.2,<10"\npython-dotenv = ">=1.2.1,<2"\n',
        "web/pyproject.toml": """\
            [project]
            name = "web"
            version = "1"
            requires-python = ">=3.8"
            dependencies = ["requests>=2"]
            """,
        "web/web/app.py": "import requests\n\n\ndef get():\n    return requests.get('http://x')\n",
    })
    import json

    res = CliRunner().invoke(app, ["scan", str(root), "--json"])
    assert res.exit_code == 0, res.output
    (web,) = json.loads(res.stdout)["services"]
    assert web["uses"] == [] and web["findings"] == [] and web["sites"] == []
    code, output = run(root, "check")
    assert code == 0 and "No old-API sites left." in output, output
    code, output = run(root, "run", "--dry-run")
    assert code == 0 and "python-floor" not in output and "0 file(s) would change" in output


def test_empty_targets_is_said_loudly(tmp_path: Path) -> None:
    root = write(tmp_path / "fleet", {
        "fleetshift.toml": "[targets]\n",
        "svc/requirements.txt": "tenacity==8.2.3\n",
        "svc/svc.py": "import tenacity\n",
    })
    runner = CliRunner()
    for args in (["scan", str(root)], ["plan", str(root)], ["check", str(root)], ["run", str(root), "--dry-run"]):
        res = runner.invoke(app, args)
        assert "no targets: nothing will be migrated" in res.output, args


# ---- locks --------------------------------------------------------------------------------------------


def test_pip_compiled_output_is_regenerated_not_hand_edited(tmp_path: Path) -> None:
    root = write(tmp_path / "fleet", {
        "fleetshift.toml": '[targets]\ntenacity = ">=9.1.2,<10"\n',
        "worker/requirements.in": "tenacity>=8.2,<9\n",
        "worker/worker.py": "import tenacity\n\n\n@tenacity.retry\ndef f():\n    return 1\n",
    })
    folder = root / "worker"
    subprocess.run([uv_bin(), "pip", "compile", "requirements.in", "-o", "requirements.txt", "--python-version",
                    "3.12", "--generate-hashes", "-q"], cwd=folder, check=True, env=uv_env())
    assert "tenacity==8." in (folder / "requirements.txt").read_text()
    git_snapshot(root)
    code, output = run(root, "run", "--no-verify", "--yes")
    assert code == 0, output
    assert (folder / "requirements.in").read_text() == "tenacity>=9.1.2,<10\n"
    out = (folder / "requirements.txt").read_text()
    # compiled again by uv (header, annotations and hashes for the new release), not a line edited by hand
    assert "tenacity>=9.1.2" not in out and "# via -r requirements.in" in out and "--hash=sha256:" in out
    assert "uv pip compile requirements.in" in out
    locked = next(ln for ln in out.splitlines() if ln.startswith("tenacity=="))
    assert Version(locked.split("==")[1].split()[0]) >= Version("9.1.2")
    assert set(changed(root)) == {"worker/requirements.in", "worker/requirements.txt"}


def test_uv_lock_is_regenerated(tmp_path: Path) -> None:
    root = write(tmp_path / "fleet", {
        "fleetshift.toml": '[targets]\ntenacity = ">=9.1.2,<10"\n',
        "svc/pyproject.toml": """\
            [project]
            name = "svc"
            version = "0.1.0"
            requires-python = ">=3.11"
            dependencies = ["tenacity>=8.2,<9"]
            """,
        "svc/svc.py": "import tenacity\n",
    })
    subprocess.run([uv_bin(), "lock", "-q"], cwd=root / "svc", check=True, env=uv_env())
    git_snapshot(root)
    code, output = run(root, "run", "--no-verify", "--yes")
    assert code == 0, output
    assert set(changed(root)) == {"svc/pyproject.toml", "svc/uv.lock"}
    assert 'name = "tenacity"\nversion = "9.' in (root / "svc/uv.lock").read_text()
    check = subprocess.run([uv_bin(), "lock", "--check", "--offline"], cwd=root / "svc", capture_output=True,
                           text=True, env=uv_env())
    assert check.returncode == 0, check.stderr


def test_poetry_lock_is_regenerated_or_flagged(tmp_path: Path) -> None:
    root = write(tmp_path / "fleet", {
        "fleetshift.toml": '[targets]\ntenacity = ">=9.1.2,<10"\n',
        "app/pyproject.toml": """\
            [tool.poetry]
            name = "app"
            version = "0.1.0"
            description = ""
            authors = []
            package-mode = false

            [tool.poetry.dependencies]
            python = "^3.9"
            tenacity = "^8.2"

            [build-system]
            requires = ["poetry-core>=1.0.0"]
            build-backend = "poetry.core.masonry.api"
            """,
        "app/app.py": "import tenacity\n",
    })
    made = subprocess.run([uv_bin(), "tool", "run", "--from", "poetry>=2", "poetry", "lock", "--no-interaction"],
                          cwd=root / "app", capture_output=True, text=True, env=uv_env(), timeout=600)
    if made.returncode != 0:
        pytest.skip(f"Poetry cannot run here to make the starting lock: {made.stderr[-300:]}")
    git_snapshot(root)
    code, output = run(root, "run", "--no-verify", "--yes")
    assert code == 0, output
    text = (root / "app/pyproject.toml").read_text()
    assert 'tenacity = "^9.' in text  # Poetry's caret stays a caret
    if "app/poetry.lock" in changed(root):
        lock = (root / "app/poetry.lock").read_text()
        assert 'name = "tenacity"\nversion = "9.' in lock
    else:
        code, output = run(root, "run", "--dry-run")
        assert "regenerate poetry.lock with `poetry lock`" in output
