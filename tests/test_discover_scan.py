import codecs
from pathlib import Path

import pytest
from fleet_factory import make_fleet

from fleetshift import scan as scan_module
from fleetshift.config import load_config
from fleetshift.discover import DiscoveryError, discover
from fleetshift.model import Action
from fleetshift.pipeline import analyse

OLD_TENACITY = """
from tenacity import retry, stop_after_attempt
from tenacity._asyncio import AsyncRetrying


@retry(stop=stop_after_attempt(3))
def fetch():
    return 1


def stats():
    return fetch.retry.statistics
"""


def small_fleet(root: Path) -> Path:
    return make_fleet(root, {
        "services/alpha/requirements.txt": "tenacity==8.2.3\n-e ../../libs/common\n",
        "services/alpha/alpha/__init__.py": "",
        "services/alpha/alpha/jobs.py": OLD_TENACITY + "\nimport common\n",
        "services/alpha/tests/test_jobs.py": "def test_x():\n    assert True\n",
        "services/alpha/nested/requirements.txt": "requests\n",  # inside a service: not a service
        "services/beta/pyproject.toml": '[project]\nname = "beta"\ndependencies = ["tenacity>=9.1.2,<10"]\n',
        "services/beta/beta/__init__.py": "from tenacity import retry\n",
        "libs/common/pyproject.toml": '[project]\nname = "common"\ndependencies = []\n',
        "libs/common/common/__init__.py": "VALUE = 1\n",
        "node_modules/junk/requirements.txt": "x\n",
        "docker-compose.yml": "services:\n  beta:\n    build: ./services/beta\n    depends_on: [alpha]\n  alpha:\n    build:\n      context: services/alpha\n",
    })


def test_discovery_finds_services_not_nested_and_skips_junk(tmp_path: Path) -> None:
    root = small_fleet(tmp_path)
    fleet = discover(root, load_config(root))
    assert sorted(s.name for s in fleet.services) == ["alpha", "beta", "common"]
    alpha = fleet.service("alpha")
    assert alpha.has_tests and "alpha" in alpha.import_names
    assert ("beta", "alpha") in fleet.compose_depends_on
    assert any(p.path == "libs/common" for p in alpha.pins)


def test_missing_path_is_an_error() -> None:
    with pytest.raises(DiscoveryError, match="no such folder"):
        discover(Path("/does/not/exist"), load_config(Path("/does/not/exist")))


def test_scan_finds_sites_with_file_and_line(tmp_path: Path) -> None:
    a = analyse(small_fleet(tmp_path))
    alpha = a.inventory.service("alpha")
    use = next(u for u in alpha.uses if u.recipe == "tenacity")
    assert not use.already_done and use.current == "==8.2.3"
    sites = [s for s in alpha.sites if s.recipe == "tenacity"]
    assert {s.file for s in sites} == {"services/alpha/alpha/jobs.py"}
    assert any(s.line == 2 and s.rule == "tenacity/asyncio-module" for s in sites)
    beta = a.inventory.service("beta")
    assert all(u.already_done for u in beta.uses if u.recipe == "tenacity")
    assert not [s for s in beta.sites if s.action is not Action.INFO]


def test_broken_files_become_findings_and_the_scan_goes_on(tmp_path: Path) -> None:
    root = small_fleet(tmp_path)
    make_fleet(root, {
        "services/alpha/alpha/broken.py": "from tenacity._asyncio import AsyncRetrying\ndef oops(:\n",
        "services/alpha/alpha/binary.py": b"tenacity._asyncio\x00\x01\x02",
        "services/alpha/alpha/latin.py": "# -*- coding: latin-1 -*-\nfrom tenacity._asyncio import AsyncRetrying\nname = 'caf\xe9'\n".encode("latin-1"),
        "services/alpha/alpha/bom_crlf.py": codecs.BOM_UTF8 + b"from tenacity._asyncio import AsyncRetrying\r\nx = 1\r\n",
        "services/alpha/alpha/badcookie.py": b"# -*- coding: klingon -*-\nimport tenacity._asyncio\n",
        "services/beta/setup.cfg": "[options\ninstall_requires = x\n",
    })
    a = analyse(root)
    alpha = a.inventory.service("alpha")
    by_file = {f.file: f for f in alpha.findings}
    assert by_file["services/alpha/alpha/broken.py"].rule == "scan/syntax-error"
    assert by_file["services/alpha/alpha/broken.py"].line == 2
    assert "NUL" in by_file["services/alpha/alpha/binary.py"].message
    assert "klingon" in by_file["services/alpha/alpha/badcookie.py"].message
    files_with_sites = {s.file for s in alpha.sites}
    assert "services/alpha/alpha/latin.py" in files_with_sites
    assert "services/alpha/alpha/bom_crlf.py" in files_with_sites
    assert [s.line for s in alpha.sites if s.file.endswith("bom_crlf.py")] == [1]


def test_second_scan_uses_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = small_fleet(tmp_path)
    first = analyse(root).inventory
    parsed: list[str] = []  # files parsed alone, and services judged whole (their changed files)
    real_file, real_service = scan_module._scan_worker, scan_module._service_worker

    def counting_file(job):
        parsed.append(job[0])
        return real_file(job)

    def counting_service(job):
        parsed.extend(rel for rel in job[2])
        return real_service(job)

    monkeypatch.setattr(scan_module, "_scan_worker", counting_file)
    monkeypatch.setattr(scan_module, "_service_worker", counting_service)
    second = analyse(root).inventory
    assert parsed == []
    assert first == second
    (root / "services/alpha/alpha/jobs.py").write_text(OLD_TENACITY + "\n# changed\n")
    analyse(root)
    assert "services/alpha/alpha/jobs.py" in parsed
    assert not [rel for rel in parsed if not rel.startswith("services/alpha/")]  # other services stay cached


RETRIED = "from tenacity import retry\n\n\n@retry\ndef fetch():\n    return 1\n"
READER = "from svc.jobs import fetch\n\n\ndef stats():\n    return fetch.retry.statistics\n"


def _labels(root: Path, **kw) -> set[tuple[str, int, str, Action]]:
    sites = analyse(root, **kw).inventory.service("svc").sites
    return {(s.file, s.line, s.rule, s.action) for s in sites if s.recipe == "tenacity"}


def test_scan_judges_a_file_with_the_service_and_a_change_to_another_file_rescans(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A function imported from a module of the service is judged as the run judges it (the run rewrites the
    [auto] site); the service's cached result goes when any of its files changes, even one without tokens."""
    root = make_fleet(tmp_path, {
        "svc/requirements.txt": "tenacity==8.2.3\n",
        "svc/svc/__init__.py": "",
        "svc/svc/jobs.py": RETRIED,
        "svc/svc/report.py": READER,
    })
    auto = ("svc/svc/report.py", 5, "tenacity/retry-statistics", Action.AUTO)
    assert auto in _labels(root)
    from fleetshift.rewrite import rewrite_fleet

    a = analyse(root, use_cache=False)
    new = {c.file: c.new for cs in rewrite_fleet(a.fleet, a.plan, a.config) for c in cs.changes}
    assert b"fetch.statistics" in new["svc/svc/report.py"]
    calls: list[str] = []
    real = scan_module._service_worker
    monkeypatch.setattr(scan_module, "_service_worker", lambda job: calls.append(job[0]) or real(job))
    assert auto in _labels(root)
    assert calls == []  # cached
    (root / "svc/svc/jobs.py").write_text(RETRIED.replace("@retry\n", ""))
    assert _labels(root) == {("svc/svc/report.py", 5, "tenacity/retry-statistics-unresolved", Action.HUMAN)}
    assert len(calls) == 1
    (root / "svc/svc/jobs.py").write_text(RETRIED)
    (root / "svc/svc/jobs.py").rename(root / "svc/svc/tasks.py")  # the import no longer resolves
    assert ("svc/svc/report.py", 5, "tenacity/retry-statistics-unresolved", Action.HUMAN) in _labels(root)
    assert len(calls) == 2


def test_scan_follows_a_pytest_generator_helper_imported_from_another_module(tmp_path: Path) -> None:
    root = make_fleet(tmp_path, {
        "svc/requirements.txt": "pytest==8.3.5\n",
        "svc/tests/__init__.py": "",
        "svc/tests/helpers.py": "def cases():\n    yield 1\n    yield 2\n",
        "svc/tests/test_a.py": (
            "import pytest\n\nfrom tests.helpers import cases\n\n\n"
            "@pytest.mark.parametrize('x', cases())\ndef test_a(x):\n    assert x\n"
        ),
    })
    sites = analyse(root).inventory.service("svc").sites
    assert ("svc/tests/test_a.py", 6, "pytest/parametrize-generator", Action.AUTO) in {
        (s.file, s.line, s.rule, s.action) for s in sites
    }


def test_ignore_comment_silences_a_site(tmp_path: Path) -> None:
    root = make_fleet(tmp_path, {
        "svc/requirements.txt": "tenacity==8.2.3\n",
        "svc/app.py": "from tenacity._asyncio import AsyncRetrying  # fleetshift: ignore[tenacity]\n",
    })
    assert not [s for s in analyse(root).inventory.service("svc").sites if s.recipe == "tenacity"]


def test_scan_never_runs_fleet_code(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    root = make_fleet(tmp_path, {
        "svc/requirements.txt": "tenacity==8.2.3\n",
        "svc/conftest.py": f"open({str(marker)!r}, 'w').write('x')\nimport tenacity._asyncio\n",
        "svc/setup.py": f"open({str(marker)!r}, 'w').write('x')\n",
    })
    analyse(root)
    assert not marker.exists()


LIBRARY_REPO = {
    "pyproject.toml": '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n\n'
                      '[project]\nname = "pollwise"\nversion = "1.0"\nlicense = "MIT"\nrequires-python = ">=3.8"\n'
                      'dependencies = ["tenacity>=8"]\n\n[project.optional-dependencies]\ntest = ["pytest"]\n',
    "src/pollwise/__init__.py": "from tenacity import retry\n",
    "tests/test_poll.py": "def test_x():\n    assert True\n",
    "tests/requirements.txt": "pytest-mock\n",
    "tests/fixtures/legacy_app/pyproject.toml": '[project]\nname = "legacy-app"\nversion = "0"\n',
    "tests/fixtures/legacy_app/app.py": "from tenacity._asyncio import AsyncRetrying\n",
    "docs/requirements.txt": "sphinx==7.2.6\nfuro\n-e ..\n",
    "docs/conf.py": "project = 'pollwise'\n",
    "examples/mqtt/requirements.txt": "pollwise\nasyncio-mqtt==0.16.1\n",
    "examples/mqtt/run.py": "import asyncio_mqtt\n",
    "benchmarks/requirements.txt": "pytest-benchmark\n",
    "website/requirements.txt": "mkdocs-material\nmkdocs\n",
    "tools/pyproject.toml": "[tool.ruff]\nline-length = 100\n",
}


def test_a_library_repository_is_one_service_at_its_root(tmp_path: Path) -> None:
    root = make_fleet(tmp_path / "pollwise", LIBRARY_REPO)
    fleet = discover(root, load_config(root))
    assert [(s.name, s.path) for s in fleet.services] == [("pollwise", "")]
    lib = fleet.services[0]
    assert lib.project.kind.value == "library" and lib.project.pythons.floor == "3.8"
    assert "tests/test_poll.py" in lib.test_files and "src/pollwise/__init__.py" in lib.python_files
    assert not [p for p in lib.python_files if p.startswith(("docs/", "examples/", "tests/fixtures/"))]
    skipped = dict(fleet.skipped)
    assert skipped["docs"].startswith("documentation folder")
    assert skipped["examples/mqtt"].startswith("examples folder")
    assert skipped["benchmarks"].startswith("benchmarks folder")
    assert skipped["tests/fixtures/legacy_app"].startswith("test fixtures")
    assert skipped["website"].startswith("only documentation tools (mkdocs, mkdocs-material)")
    assert skipped["tests"].startswith("part of the project at the fleet root")
    assert skipped["tools"].startswith("part of the project at the fleet root")
    a = analyse(root)
    assert {u.recipe for u in a.inventory.service("pollwise").uses} >= {"tenacity"}
    assert a.inventory.skipped == fleet.skipped
    assert a.inventory.service("pollwise").project == lib.project


def test_a_monorepo_with_a_root_project_keeps_its_services(tmp_path: Path) -> None:
    root = make_fleet(tmp_path, {
        "pyproject.toml": '[project]\nname = "platform"\nversion = "0"\ndependencies = ["tenacity==8.2.3"]\n',
        "platform_tools/__init__.py": "",
        "services/api/requirements.txt": "tenacity==8.2.3\n",
        "services/api/api/__init__.py": "",
        "libs/shared/pyproject.toml": '[project]\nname = "shared"\nversion = "0"\n',
        "libs/shared/shared/__init__.py": "",
        "docs/requirements.txt": "sphinx\n",
        "scripts/requirements-dev.txt": "ruff\n",
    })
    fleet = discover(root, load_config(root))
    assert sorted(s.path for s in fleet.services) == ["", "libs/shared", "services/api"]
    top = next(s for s in fleet.services if s.path == "")
    assert top.python_files == ("platform_tools/__init__.py",)  # the nested services' files are theirs
    assert dict(fleet.skipped)["scripts"].startswith("part of the project")


def test_the_demo_fleet_discovers_the_same_services_with_and_without_its_patterns() -> None:
    from fleetshift.config import FleetConfig

    root = Path(__file__).resolve().parents[1] / "examples" / "homeiq"
    configured = discover(root, load_config(root))
    automatic = discover(root, FleetConfig(root=root))
    expected = {
        "ai-core-service", "api-automation-edge", "automation-miner", "calendar-service", "data-api", "data-retention",
        "device-registry", "energy-correlator", "ha-simulator", "rag-service", "usage-reports", "weather-api",
        "websocket-ingestion",
        "homeiq-common",
    }
    assert {s.name for s in configured.services} == {s.name for s in automatic.services} == expected
    assert configured.skipped == automatic.skipped == ()
    assert [s.python_files for s in configured.services] == [automatic.service(s.name).python_files for s in configured.services]


@pytest.mark.parametrize("pattern", [".", "./", "", "./.", "/".join(["."] * 2)])
def test_every_way_to_name_the_root(tmp_path: Path, pattern: str) -> None:
    root = make_fleet(tmp_path / "repo", {**LIBRARY_REPO, "fleetshift.toml": f'[fleet]\nservices = ["{pattern}"]\n'
                                          '[services."."]\ntest_command = "pytest -x"\n'})
    fleet = discover(root, load_config(root))
    assert [s.path for s in fleet.services] == [""]
    assert fleet.services[0].project.test_command.command == "pytest -x"
    assert fleet.services[0].python_files == ("src/pollwise/__init__.py", "tests/test_poll.py")
    assert {"docs", "examples/mqtt", "tests/fixtures/legacy_app", "website", "benchmarks"} <= set(dict(fleet.skipped))
    assert not [f for f in fleet.findings if f.rule == "config/unknown-service"]


def test_patterns_bring_skipped_folders_back_and_exclude_prunes(tmp_path: Path) -> None:
    root = make_fleet(tmp_path / "repo", LIBRARY_REPO)
    (root / "fleetshift.toml").write_text('[fleet]\nservices = [".", "./examples/*", "docs/"]\n')
    fleet = discover(root, load_config(root))
    assert [s.path for s in fleet.services] == ["", "examples/mqtt", "docs"]
    assert not [p for p in fleet.service("repo").python_files if p.startswith(("examples/", "docs/"))]
    (root / "fleetshift.toml").write_text('[fleet]\nservices = ["*"]\n')  # a wildcard does not name docs
    fleet = discover(root, load_config(root))
    assert {s.path for s in fleet.services} == {"tests", "tools"} and "docs" in dict(fleet.skipped)
    (root / "fleetshift.toml").write_text('[fleet]\nexclude = ["docs", "./src/"]\n')
    fleet = discover(root, load_config(root))
    assert [s.path for s in fleet.services] == [""]
    assert "src/pollwise/__init__.py" not in fleet.services[0].python_files
    assert dict(fleet.skipped)["docs"] == "excluded by fleet.exclude 'docs'"


@pytest.mark.parametrize(("key", "pattern", "words"), [
    ("services", "../*", "leads outside the fleet root"),
    ("services", "/srv/fleet/*", "absolute path"),
    ("services", "a/**b", "whole path part"),
    ("exclude", "../other", "leads outside the fleet root"),
    ("services", "svc-[ab", "unclosed"),
])
def test_a_bad_pattern_is_a_config_error_naming_the_key(tmp_path: Path, key: str, pattern: str, words: str) -> None:
    from fleetshift.config import ConfigError

    root = make_fleet(tmp_path, {"svc/requirements.txt": "x\n", "fleetshift.toml": f'[fleet]\n{key} = ["{pattern}"]\n'})
    with pytest.raises(ConfigError) as info:
        discover(root, load_config(root))
    assert f"fleet.{key}" in str(info.value) and words in str(info.value) and "Fix:" in str(info.value)


def test_the_config_may_name_services_by_folder_and_is_told_about_skipped_ones(tmp_path: Path) -> None:
    root = make_fleet(tmp_path / "repo", {**LIBRARY_REPO, "fleetshift.toml": (
        '[fleet]\ncritical = ["."]\n[services."./"]\ntimeout = 60\n[services.docs]\nskip = false\n[services.nope]\nskip = true\n')})
    fleet = discover(root, load_config(root))
    assert fleet.services[0].critical
    unknown = {f.message.split("'")[1]: f.message for f in fleet.findings if f.rule == "config/unknown-service"}
    assert set(unknown) == {"docs", "nope"}
    assert "passed over" in unknown["docs"] and "[fleet] services" in unknown["docs"]
    assert "did not find" in unknown["nope"]
