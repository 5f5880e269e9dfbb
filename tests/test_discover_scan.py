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
    parsed: list[str] = []
    real = scan_module._scan_worker

    def counting(job):
        parsed.append(job[0])
        return real(job)

    monkeypatch.setattr(scan_module, "_scan_worker", counting)
    second = analyse(root).inventory
    assert parsed == []
    assert first == second
    (root / "services/alpha/alpha/jobs.py").write_text(OLD_TENACITY + "\n# changed\n")
    analyse(root)
    assert parsed == ["services/alpha/alpha/jobs.py"]


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
