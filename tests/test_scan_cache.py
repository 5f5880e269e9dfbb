"""The scan cache: a scan with it gives what a scan without it gives; an edit is seen; an unchanged file is not
read again; a corrupted or planted cache file is ignored (no traceback, no code run)."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fleet_factory import make_fleet

import fleetshift
from fleetshift import scan as scan_module
from fleetshift.model import to_jsonable
from fleetshift.pipeline import survey

ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(fleetshift.__file__).parents[1]),
                                                   os.environ.get("PYTHONPATH", "")])}

JOBS = """
from tenacity import retry, stop_after_attempt


@retry(stop=stop_after_attempt(3))
def fetch():
    return 1


def stats():
    return fetch.retry.statistics
"""
STORE = """
from influxdb_client import InfluxDBClient

client = InfluxDBClient(url="http://db:8086", token="t", org="o")
"""
CLEAN = "def fetch():\n    return 1\n"


def fleet(root: Path) -> Path:
    return make_fleet(root, {
        "services/alpha/requirements.txt": "tenacity==8.2.3\ninfluxdb-client==1.40.0\n",
        "services/alpha/alpha/__init__.py": "",
        "services/alpha/alpha/jobs.py": JOBS,
        "services/alpha/alpha/store.py": STORE,
        "services/alpha/alpha/plain.py": "import json\n",
        "services/beta/requirements.txt": "tenacity==8.2.3\n",
        "services/beta/beta/__init__.py": "from alpha import jobs\n",
        "services/beta/beta/jobs.py": JOBS,
    })


def settle(root: Path, seconds_ago: float = 60) -> None:
    """Give every file of the fleet an mtime in the past, as files not touched for a while have."""
    past = time.time() - seconds_ago
    for path in root.rglob("*"):
        if path.is_file() and ".fleetshift" not in path.parts:
            os.utime(path, (past, past))


def settle_for_snapshot(root: Path) -> None:
    """Settle the files as `settle` does, then wait until their ctime (which no utime sets back) is settled too:
    a scan keeps a snapshot only of files unchanged by either for `quickscan.SETTLED_NS`."""
    settle(root)
    time.sleep(2.1)


def inventory(root: Path, **kw: object) -> object:
    return to_jsonable(survey(root, jobs=1, **kw).inventory)  # type: ignore[arg-type]


def rules(root: Path, file: str) -> list[str]:
    return sorted(s.rule for inv in survey(root, jobs=1).inventory.services for s in inv.sites if s.file == file)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The Python files the scan's per-file pass opens."""
    opened: list[str] = []
    real_open = open

    def counting(file, *args, **kw):  # type: ignore[no-untyped-def]
        if str(file).endswith(".py"):
            opened.append(str(file))
        return real_open(file, *args, **kw)

    real_read = scan_module._read

    def counting_read(path: str):  # type: ignore[no-untyped-def]
        if path.endswith(".py"):
            opened.append(path)
        return real_read(path)

    monkeypatch.setattr(scan_module, "open", counting, raising=False)
    monkeypatch.setattr(scan_module, "_read", counting_read)
    return opened


def test_cached_scan_equals_uncached_and_sees_an_edit(tmp_path: Path) -> None:
    root = fleet(tmp_path / "fleet")
    settle(root)
    first = inventory(root)
    assert list((root / ".fleetshift" / "cache").glob("scan-*.pickle"))
    assert inventory(root) == first == inventory(root, use_cache=False)
    jobs = "services/alpha/alpha/jobs.py"
    assert "tenacity/retry-statistics" in rules(root, jobs)
    # one file edited (its stat moves): the next scan sees the edit, the rest comes from the cache
    (root / jobs).write_text(CLEAN)
    assert rules(root, jobs) == []
    assert inventory(root) == inventory(root, use_cache=False)
    # the old-API text back (a file the cache has seen, under a new stat): seen again
    (root / jobs).write_text(JOBS.lstrip("\n"))
    assert "tenacity/retry-statistics" in rules(root, jobs)
    assert inventory(root) == inventory(root, use_cache=False)
    # a file added and one removed change the service's record too
    (root / "services/alpha/alpha/more.py").write_text(STORE)
    (root / "services/alpha/alpha/store.py").unlink()
    assert inventory(root) == inventory(root, use_cache=False)
    files = {s["file"] for inv in inventory(root)["services"] for s in inv["sites"]}
    assert "services/alpha/alpha/more.py" in files and "services/alpha/alpha/store.py" not in files


def test_an_unchanged_fleet_is_not_read_again(tmp_path: Path, reads: list[str]) -> None:
    root = fleet(tmp_path / "fleet")
    settle(root)
    first = inventory(root)
    assert reads  # the first scan reads every file
    reads.clear()
    assert inventory(root) == first
    assert reads == []  # size and mtime unchanged since a settled read: nothing opened


def test_a_fresh_file_is_read_again_and_an_mtime_set_back_hides_no_edit(tmp_path: Path, reads: list[str]) -> None:
    """A file read while it was fresh could change again without its mtime moving (coarse clocks): the next
    scan reads it even though nothing about it changed. A settled file is trusted by its stat, but an edit
    whose mtime was set back by hand still moves the ctime, so it is seen."""
    root = fleet(tmp_path / "fleet")
    settle(root)
    fresh, old = root / "services/alpha/alpha/jobs.py", root / "services/beta/beta/jobs.py"
    now = time.time()
    os.utime(fresh, (now, now))  # just written
    inventory(root)
    reads.clear()
    inventory(root)
    assert reads == [str(fresh)]  # unchanged, but not settled when it was read: its content is checked
    st = old.stat()
    old.write_text(old.read_text().replace("fetch.retry.statistics", "fetch.retry.statisticz"))
    os.utime(old, ns=(st.st_atime_ns, st.st_mtime_ns))  # same size, same mtime, other text
    assert old.stat().st_size == st.st_size and old.stat().st_mtime_ns == st.st_mtime_ns
    reads.clear()
    assert rules(root, "services/beta/beta/jobs.py") == []
    assert str(old) in reads
    assert inventory(root) == inventory(root, use_cache=False)


def scan_cli(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fleetshift", "scan", "--json", str(root)], capture_output=True,
                          text=True, env=ENV, timeout=120, cwd=root)


class Planted:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("touch PLANTED",))


def reaching(module: str, name: str) -> bytes:
    """A pickle that calls `module`.`name` with the command that plants a file (protocol 4, STACK_GLOBAL)."""
    def text(value: str) -> bytes:
        data = value.encode()
        return b"\x8c" + bytes([len(data)]) + data

    return b"\x80\x04" + text(module) + text(name) + b"\x93" + text(
        "__import__('os').system('touch PLANTED')") + b"\x85R."


def test_a_corrupted_or_planted_cache_is_ignored(tmp_path: Path) -> None:
    root = fleet(tmp_path / "fleet")
    good = scan_cli(root)
    assert good.returncode == 0, good.stderr
    (cache,) = (root / ".fleetshift" / "cache").glob("scan-*.pickle")
    payloads = [
        b"not a pickle at all",
        cache.read_bytes()[: len(cache.read_bytes()) // 2],  # truncated
        pickle.dumps({"format": 2, "files": [], "results": 1}),  # another shape
        pickle.dumps({"format": 2, "imports": b"", "files": {"x": Planted()}, "results": {}, "services": {},
                      "manifests": {}}),
        reaching("fleetshift.model", "dataclasses.builtins.exec"),  # an allowed module, a dotted way out
        reaching("fleetshift.model", "dataclass"),  # a function the model imports, not a record it defines
    ]
    for payload in payloads:
        cache.write_bytes(payload)
        (root / ".fleetshift/cache/snapshot.pickle").unlink(missing_ok=True)  # not answered from the snapshot
        again = scan_cli(root)
        assert again.returncode == 0, again.stderr
        assert "Traceback" not in again.stderr
        assert again.stdout == good.stdout
        assert not (root / "PLANTED").exists()
        assert cache.read_bytes() != payload  # rewritten by the scan


PROBE = """
import json, sys
sys.argv = ["fleetshift", "scan", "--json", sys.argv[1]]
from fleetshift.__main__ import main
try:
    main()
except SystemExit as exc:
    assert not exc.code, exc.code
loaded = [m for m in ("typer", "rich", "fleetshift.cli", "fleetshift.recipes", "fleetshift.discover") if m in sys.modules]
sys.stderr.write(json.dumps(loaded))
"""


def quick(root: Path) -> tuple[str, list[str]]:
    """`scan --json` as the command runs it: its output, and which heavy modules it loaded to answer."""
    import json

    proc = subprocess.run([sys.executable, "-c", PROBE, str(root)], capture_output=True, text=True, env=ENV,
                          timeout=120, cwd=root)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout, json.loads(proc.stderr.strip().splitlines()[-1])


def test_scan_json_of_an_unchanged_fleet_is_answered_from_its_snapshot(tmp_path: Path) -> None:
    root = fleet(tmp_path / "fleet")
    settle_for_snapshot(root)
    full, loaded = quick(root)
    assert "fleetshift.discover" in loaded and (root / ".fleetshift/cache/snapshot.pickle").is_file()
    assert "typer" not in loaded and "rich" not in loaded  # a full scan --json needs no command line either
    again, loaded = quick(root)
    assert again == full and loaded == []  # answered before the command line, recipes or discovery loaded
    assert again == scan_cli_no_cache(root)
    # an edit (the stat moves): the full scan runs and sees it; a new snapshot is kept once the file is settled
    jobs = root / "services/alpha/alpha/jobs.py"
    jobs.write_text(CLEAN)
    edited, loaded = quick(root)
    assert "fleetshift.discover" in loaded and edited != full and edited == scan_cli_no_cache(root)
    assert "tenacity/retry-statistics" in site_rules(full, "alpha")
    assert "tenacity/retry-statistics" not in site_rules(edited, "alpha")
    _, loaded = quick(root)
    assert "fleetshift.discover" in loaded  # the edited file is not settled yet: no snapshot was kept
    settle_for_snapshot(root)
    quick(root)
    assert quick(root) == (edited, [])
    # a file added, a folder added: the full scan again
    (root / "services/beta/beta/more.py").write_text(STORE)
    settle_for_snapshot(root)
    added, loaded = quick(root)
    assert "fleetshift.discover" in loaded and added == scan_cli_no_cache(root) and "influxdb" in added
    (root / "services/beta/empty").mkdir()
    assert "fleetshift.discover" in quick(root)[1]


def site_rules(output: str, service: str) -> list[str]:
    import json

    return [s["rule"] for inv in json.loads(output)["services"] if inv["service"] == service for s in inv["sites"]]


def scan_cli_no_cache(root: Path) -> str:
    proc = subprocess.run([sys.executable, "-m", "fleetshift", "scan", "--json", "--no-cache", str(root)],
                          capture_output=True, text=True, env=ENV, timeout=120, cwd=root)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_a_planted_snapshot_runs_nothing(tmp_path: Path) -> None:
    root = fleet(tmp_path / "fleet")
    settle(root)
    full, _ = quick(root)
    snapshot = root / ".fleetshift/cache/snapshot.pickle"
    snapshot.write_bytes(pickle.dumps({"format": 1, "root": str(root), "plugins": (), "output": Planted()}))
    again, loaded = quick(root)
    assert again == full and "fleetshift.discover" in loaded
    assert not (root / "PLANTED").exists()


def test_a_file_is_read_as_open_reads_it(tmp_path: Path) -> None:
    """scan._read gives the bytes open(path, "rb").read() gives, the stat of the file it read, and the errors
    open() raises, word for word (a Finding quotes them)."""
    for name, data in (("empty.py", b""), ("small.py", b"import os\n"), ("big.py", os.urandom(300_000)),
                       ("one.py", b"x")):
        path = tmp_path / name
        path.write_bytes(data)
        st, got = scan_module._read(str(path))
        assert got == data == path.read_bytes()
        assert (st.st_size, st.st_mtime_ns, st.st_ino) == (len(data), path.stat().st_mtime_ns, path.stat().st_ino)
    (tmp_path / "folder.py").mkdir()
    for name in ("folder.py", "missing.py"):
        with pytest.raises(OSError) as ours:
            scan_module._read(str(tmp_path / name))
        with pytest.raises(OSError) as theirs:
            open(tmp_path / name, "rb")
        assert (type(ours.value), str(ours.value)) == (type(theirs.value), str(theirs.value))
