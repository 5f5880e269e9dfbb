"""A cold scan of a large fleet is shared with one forked process (each takes the next service not yet taken): its
output and the cache it leaves are exactly those of a scan by one process."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import time
from pathlib import Path

import pytest

from fleetshift import scan as scan_module
from fleetshift.model import to_jsonable
from fleetshift.pipeline import survey

HOMEIQ = Path(__file__).parents[1] / "examples" / "homeiq"
BROKEN = {
    "services/ai-core-service/src/broken.py": b"def f(:\n    import asyncio\n    asyncio.get_event_loop\n",
    "services/data-api/src/latin.py": b"# -*- coding: latin-1 -*-\nimport tenacity\nname = '\xe9'\n",
    "services/weather-api/tests/nul.py": b"import pytest\x00\n",
}


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fork") / "homeiq"
    shutil.copytree(HOMEIQ, root, ignore=shutil.ignore_patterns(".fleetshift", "__pycache__"))
    for rel, data in BROKEN.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    past = time.time() - 60  # settled files: the caches of two scans record them alike
    for path in root.rglob("*"):
        os.utime(path, (past, past))
    return root


def _scan(root: Path, jobs: int, *, use_cache: bool = False) -> str:
    return json.dumps(to_jsonable(survey(root, use_cache=use_cache, jobs=jobs).inventory))


def _cache(root: Path) -> dict:
    """The scan cache's records (both parts of a shared scan's, checked to be of the same scan), as sorted items."""
    [path] = (root / ".fleetshift" / "cache").glob("scan-*.pickle")
    data = pickle.loads(path.read_bytes())
    part = data.pop("part", None)
    more = path.with_name(path.name + ".more")
    if part is not None:
        theirs = pickle.loads(more.read_bytes())
        assert theirs.pop("of") == part and theirs["imports"] == data["imports"] and not theirs["manifests"]
        assert not data["files"].keys() & theirs["files"].keys()  # each file scanned by one of the processes
        for key in ("files", "results", "services"):
            data[key].update(theirs[key])
    else:
        assert not more.exists()
    return {k: (sorted(v.items()) if isinstance(v, dict) else v) for k, v in data.items()}


def test_a_forked_scan_is_the_scan_of_one_process(fleet: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    one = _scan(fleet, jobs=1)
    pids = tmp_path / "pids"
    real = scan_module._scan_group

    def group(*args, **kwargs):
        with open(pids, "a") as fh:
            fh.write(f"{os.getpid()}\n")
        return real(*args, **kwargs)

    monkeypatch.setattr(scan_module, "_scan_group", group)
    monkeypatch.setattr(scan_module, "FORK_MIN_FILES", 1)
    forked = _scan(fleet, jobs=2)
    assert len(set(pids.read_text().split())) == len(pids.read_text().split()) == 2  # each process once: no fallback
    assert forked == one
    assert '"scan/syntax-error"' in one and len(json.loads(one)["services"]) > 10

    # the cache the forked scan leaves is the one-process scan's, and answers the next scan without a parse
    shutil.rmtree(fleet / ".fleetshift", ignore_errors=True)
    assert _scan(fleet, jobs=2, use_cache=True) == one
    forked_cache = _cache(fleet)
    monkeypatch.setattr(scan_module, "FORK_MIN_FILES", 10**9)
    shutil.rmtree(fleet / ".fleetshift", ignore_errors=True)
    assert _scan(fleet, jobs=2, use_cache=True) == one
    assert _cache(fleet) == forked_cache
    parsed: list[str] = []
    monkeypatch.setattr(scan_module, "_scan_worker", lambda job: parsed.append(job[0]))
    monkeypatch.setattr(scan_module, "_service_worker", lambda job: parsed.append(job[0]))
    monkeypatch.setattr(scan_module, "FORK_MIN_FILES", 1)
    assert _scan(fleet, jobs=2, use_cache=True) == one
    assert parsed == []


def test_a_failed_child_leaves_its_services_to_the_parent(fleet: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    one = _scan(fleet, jobs=1)
    parent = os.getpid()
    real = scan_module._scan_group

    def group(*args, **kwargs):
        if os.getpid() != parent:
            raise RuntimeError("the child fails")
        return real(*args, **kwargs)

    monkeypatch.setattr(scan_module, "_scan_group", group)
    monkeypatch.setattr(scan_module, "FORK_MIN_FILES", 1)
    assert _scan(fleet, jobs=2) == one


def test_each_process_takes_the_next_service(fleet: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    one = _scan(fleet, jobs=1)
    taken = tmp_path / "taken"
    real = scan_module._scan_group

    def group(root, services, *args, **kwargs):
        def noted():
            for service in services:
                with open(taken, "a") as fh:
                    fh.write(f"{os.getpid()} {service.name}\n")
                if os.getpid() != parent:
                    time.sleep(0.2)  # a slow child: the parent takes more than every other service
                yield service
        return real(root, noted(), *args, **kwargs)

    parent = os.getpid()
    monkeypatch.setattr(scan_module, "_scan_group", group)
    monkeypatch.setattr(scan_module, "FORK_MIN_FILES", 1)
    assert _scan(fleet, jobs=2) == one
    rows = [line.split() for line in taken.read_text().splitlines()]
    names = [name for _, name in rows]
    assert sorted(names) == sorted(s["service"] for s in json.loads(one)["services"])  # each service once
    mine = sum(1 for pid, _ in rows if int(pid) == parent)
    assert len(names) - mine >= 1 and mine > len(names) // 2 + 1


def test_a_child_that_dies_holding_the_next_turn_leaves_the_rest_to_the_parent(
        fleet: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    one = _scan(fleet, jobs=1)
    parent = os.getpid()
    real = scan_module._Turns.taken

    def taken(self, services, alive):
        if os.getpid() != parent:
            os.read(self.r, 8)  # the next index read, never written back
            os._exit(3)
        return real(self, services, alive)

    monkeypatch.setattr(scan_module._Turns, "taken", taken)
    monkeypatch.setattr(scan_module, "FORK_MIN_FILES", 1)
    start = time.monotonic()
    assert _scan(fleet, jobs=2) == one
    assert time.monotonic() - start < 60


def test_no_fork_for_a_small_fleet_or_one_core(fleet: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "fork", lambda: pytest.fail("forked"))
    _scan(fleet, jobs=2)  # 100-odd files, far under FORK_MIN_FILES
    monkeypatch.setattr(scan_module, "FORK_MIN_FILES", 1)
    _scan(fleet, jobs=1)


@pytest.mark.parametrize("slow_meanwhile", [False, True], ids=["discovery alone", "while the recipes load"])
def test_a_forked_discovery_is_the_discovery_of_one_process(fleet: Path, monkeypatch: pytest.MonkeyPatch,
                                                            tmp_path: Path, slow_meanwhile: bool) -> None:
    """Both processes take the next service not yet read; with `meanwhile` (`scan --json` loads the recipes then)
    this one first runs it while the child reads services. The fleet and the manifests its cache learned are those
    of one process, in its order; a failing child's services are read here; a small fleet is not forked for."""
    from fleetshift import discover as discover_module
    from fleetshift.config import load_config
    from fleetshift.scancache import ScanCache

    config = load_config(fleet, targets=False)
    assert not config.targets and load_config(fleet).targets  # the targets (the recipes') come with the recipes
    shutil.rmtree(fleet / ".fleetshift", ignore_errors=True)
    monkeypatch.setattr(discover_module, "FORK_MIN_SERVICES", 10**9)
    one_cache = ScanCache(fleet)  # nothing saved: both discoveries start from an empty cache
    one = discover_module.discover(fleet, config, one_cache)
    monkeypatch.setattr(discover_module, "FORK_MIN_SERVICES", 2)
    pids = tmp_path / "pids"
    real = discover_module._Each.__call__

    def each(self, job):
        with open(pids, "a") as fh:
            fh.write(f"{os.getpid()}\n")
        return real(self, job)

    monkeypatch.setattr(discover_module._Each, "__call__", each)
    ran: list[int] = []

    def meanwhile() -> None:  # slow enough that the child reads services before this process takes any
        ran.append(os.getpid())
        time.sleep(0.3)

    cache = ScanCache(fleet)
    shared = discover_module.discover(fleet, config, cache, meanwhile=meanwhile if slow_meanwhile else None)
    assert ran == ([os.getpid()] if slow_meanwhile else [])
    read_by = pids.read_text().split()
    assert len(read_by) == len(one.services) > 10 and set(read_by) - {str(os.getpid())}  # the child read some
    assert shared == one and json.dumps(to_jsonable(shared)) == json.dumps(to_jsonable(one))
    assert list(cache.new_manifests.items()) == list(one_cache.new_manifests.items()) and one_cache.new_manifests

    parent = os.getpid()

    def failing(self, job):  # a child that fails: its services are read by the parent
        if os.getpid() != parent:
            raise RuntimeError("the child fails")
        return real(self, job)

    monkeypatch.setattr(discover_module._Each, "__call__", failing)
    ran.clear()
    cache = ScanCache(fleet)
    assert discover_module.discover(fleet, config, cache, meanwhile=meanwhile if slow_meanwhile else None) == one
    assert list(cache.new_manifests.items()) == list(one_cache.new_manifests.items())
    assert ran == ([os.getpid()] if slow_meanwhile else [])
    monkeypatch.setattr(os, "fork", lambda: pytest.fail("forked"))
    monkeypatch.setattr(discover_module, "FORK_MIN_SERVICES", 64)  # 14 services: no fork, `meanwhile` first
    ran.clear()
    assert discover_module.discover(fleet, config, meanwhile=meanwhile if slow_meanwhile else None) == one
    assert ran == ([os.getpid()] if slow_meanwhile else [])


def test_the_two_parts_of_a_shared_scans_cache(fleet: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each process of a shared scan writes its part of the cache; a child that cannot write its part sends what it
    learned, and the whole cache is written in one file; a part of another scan makes the cache unreadable."""
    from fleetshift import scancache
    from fleetshift.scancache import ScanCache

    monkeypatch.setattr(scan_module, "FORK_MIN_FILES", 10**9)
    shutil.rmtree(fleet / ".fleetshift", ignore_errors=True)
    one = _scan(fleet, jobs=2, use_cache=True)
    whole = _cache(fleet)
    monkeypatch.setattr(scan_module, "FORK_MIN_FILES", 1)
    shutil.rmtree(fleet / ".fleetshift", ignore_errors=True)
    assert _scan(fleet, jobs=2, use_cache=True) == one
    [path] = (fleet / ".fleetshift" / "cache").glob("scan-*.pickle")
    more = path.with_name(path.name + ".more")
    assert more.exists() and _cache(fleet) == whole
    assert len(ScanCache(fleet).files) == len(whole["files"])  # both parts read

    parent = os.getpid()
    real = scancache.ScanCache.save_shared

    def child_cannot(self, part, marks=None):  # type: ignore[no-untyped-def]
        return False if os.getpid() != parent else real(self, part, marks)

    monkeypatch.setattr(scancache.ScanCache, "save_shared", child_cannot)
    shutil.rmtree(fleet / ".fleetshift", ignore_errors=True)
    assert _scan(fleet, jobs=2, use_cache=True) == one
    assert not more.exists() and _cache(fleet) == whole
    monkeypatch.setattr(scancache.ScanCache, "save_shared", real)

    shutil.rmtree(fleet / ".fleetshift", ignore_errors=True)
    _scan(fleet, jobs=2, use_cache=True)
    data = pickle.loads(more.read_bytes())
    more.write_bytes(pickle.dumps({**data, "of": b"another scan"}))
    assert ScanCache(fleet).files == {}  # half of it is not this scan's: start afresh
