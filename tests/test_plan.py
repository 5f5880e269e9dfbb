from pathlib import Path

from fleet_factory import make_fleet

from fleetshift.model import Phase
from fleetshift.pipeline import analyse

ASYNC_OLD = "from tenacity._asyncio import AsyncRetrying\n"


def fleet(tmp_path: Path) -> Path:
    files = {
        "fleetshift.toml": '[fleet]\nservices = ["services/*", "libs/*"]\ncritical = ["core"]\nbatch_size = 2\n',
        "libs/shared/pyproject.toml": '[project]\nname = "shared"\ndependencies = ["tenacity==8.2.3"]\n',
        "libs/shared/shared/__init__.py": ASYNC_OLD,
        "services/core/requirements.txt": "tenacity==8.2.3\n",
        "services/core/core/__init__.py": ASYNC_OLD,
        "services/core/tests/test_core.py": "def test_x():\n    pass\n",
        "services/done/requirements.txt": "tenacity>=9.1.2,<10\n",
        "services/done/done/__init__.py": "import tenacity\n",
    }
    for i in range(5):
        files[f"services/s{i}/requirements.txt"] = "tenacity==8.2.3\n-e ../../libs/shared\n"
        files[f"services/s{i}/s{i}/__init__.py"] = ASYNC_OLD * (i + 1) + "import shared\n"
        if i % 2:
            files[f"services/s{i}/tests/test_s.py"] = "def test_x():\n    pass\n"
    return make_fleet(tmp_path, files)


def test_every_service_in_exactly_one_phase_with_reasons(tmp_path: Path) -> None:
    plan = analyse(fleet(tmp_path)).plan
    names = [s.service for s in plan.services]
    assert sorted(names) == sorted(set(names)) and len(names) == 8
    for s in plan.services:
        assert s.phase in Phase and s.reasons
    assert sorted(s.order for s in plan.services) == list(range(1, 9))


def test_critical_services_are_in_phase_d_alone(tmp_path: Path) -> None:
    plan = analyse(fleet(tmp_path)).plan
    core = plan.service("core")
    assert core.phase is Phase.D and core.risk == "critical"
    d_batches = [s.batch for s in plan.by_phase()[Phase.D]]
    assert len(d_batches) == len(set(d_batches))


def test_dependencies_come_before_dependents(tmp_path: Path) -> None:
    a = analyse(fleet(tmp_path))
    plan = a.plan
    shared = plan.service("shared")
    phase_index = list(Phase).index
    for i in range(5):
        s = plan.service(f"s{i}")
        assert "shared" in s.depends_on
        assert s.order > shared.order
        assert phase_index(s.phase) >= phase_index(shared.phase)
        if s.phase is shared.phase:
            assert s.batch > shared.batch


def test_batches_respect_the_size(tmp_path: Path) -> None:
    plan = analyse(fleet(tmp_path)).plan
    for phase, services in plan.by_phase().items():
        sizes: dict[int, int] = {}
        for s in services:
            sizes[s.batch] = sizes.get(s.batch, 0) + 1
        assert all(n <= (1 if phase is Phase.D else 2) for n in sizes.values())


def test_already_migrated_service_is_a_noop(tmp_path: Path) -> None:
    plan = analyse(fleet(tmp_path)).plan
    done = plan.service("done")
    assert done.recipes == () and done.risk == "low"
    assert any("no-op" in r for r in done.reasons)


def test_risk_rises_with_sites_and_missing_tests(tmp_path: Path) -> None:
    plan = analyse(fleet(tmp_path)).plan
    # s0 (1 site, no tests) vs s1 (2 sites, tests): no tests weighs more than one extra site.
    assert plan.service("s0").risk_score > plan.service("s1").risk_score
    assert plan.service("s4").risk_score > plan.service("s2").risk_score
