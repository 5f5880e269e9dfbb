"""Which files of a service are its dependency files: requirements and constraints files at any depth, except
in folders that belong to other projects (virtualenvs, node_modules, docs and examples with their own
requirements, vendored code, test fixtures). No network."""

from __future__ import annotations

from pathlib import Path

from fleetshift.config import load_config
from fleetshift.discover import discover


def test_dependency_files_at_any_depth_and_not_in_other_projects(tmp_path: Path) -> None:
    files = {
        "svc/pyproject.toml": '[project]\nname = "svc"\nversion = "1"\ndependencies = ["tenacity>=8.2,<9"]\n',
        "svc/requirements.txt": "tenacity==8.2.3\n",
        "svc/constraints-prod.txt": "urllib3<3\n",
        "svc/requirements/test.txt": "pytest==8.3.5\n",
        "svc/deploy/provisioning/requirements/base.txt": "tenacity==8.2.3\n",
        "svc/docker/requirements.txt": "tenacity==8.2.3\n",
        "svc/ci/install-min.txt": "tenacity==8.2.0\n",
        "svc/svc/__init__.py": "import tenacity\n",
        # not the service's
        "svc/.venv/lib/site/requirements.txt": "x==1\n",
        "svc/node_modules/pkg/requirements.txt": "x==1\n",
        "svc/docs/requirements.txt": "sphinx==7.0\n",
        "svc/examples/demo/requirements.txt": "tenacity==8.0\n",
        "svc/vendor/otherlib/requirements.txt": "tenacity==6.0\n",
        "svc/tests/fixtures/project/requirements.txt": "tenacity==5.0\n",
        "svc/notes/todo.txt": "tenacity is old\n",
        "svc/pyproject-extra/pyproject.toml": '[project]\nname = "x"\nversion = "1"\n',
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    fleet = discover(tmp_path, load_config(tmp_path))
    (svc,) = fleet.services
    assert sorted(m.file for m in svc.manifests) == [
        "svc/ci/install-min.txt",
        "svc/constraints-prod.txt",
        "svc/deploy/provisioning/requirements/base.txt",
        "svc/docker/requirements.txt",
        "svc/pyproject.toml",
        "svc/requirements.txt",
        "svc/requirements/test.txt",
    ]
    skipped = dict(fleet.skipped)
    assert "vendored" in skipped["svc/vendor/otherlib"] and "documentation" in skipped["svc/docs"]


def test_tox_envs_of_the_oldest_releases_name_their_files(tmp_path: Path) -> None:
    from fleetshift.manifests import installed_with_tests, is_minimum_pins, tox_minimum_files

    (tmp_path / "svc").mkdir()
    (tmp_path / "svc/tox.ini").write_text(
        "[tox]\nenvlist = py310, py310-oldestdeps, min\n\n"
        "[testenv]\ndeps =\n    -r requirements-test.txt\n    oldestdeps: -r requirements/floor.txt\n"
        "    py311: -cconstraints.txt\n\n"
        "[testenv:min]\ndeps = -r ci/lowest.txt\n    pytest\n\n"
        "[testenv:docs]\ndeps = -r docs/requirements.txt\n")
    tox = tox_minimum_files(tmp_path, "svc")
    assert tox == {"svc/requirements/floor.txt", "svc/ci/lowest.txt"}
    assert is_minimum_pins("svc/requirements/floor.txt", tox) and not is_minimum_pins("svc/requirements/floor.txt")
    assert not installed_with_tests("svc/requirements/floor.txt", "svc", tox)
    assert installed_with_tests("svc/requirements/floor.txt", "svc")
    assert tox_minimum_files(tmp_path, "nothing-here") == frozenset()
