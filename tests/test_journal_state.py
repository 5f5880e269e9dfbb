"""The journal's state database: a process killed with SIGKILL inside a commit (between the intent and the
replace, in the middle of a transaction) loses nothing and rollback restores exact bytes; another process reads
a consistent state while a run writes; a run folder in the JSON layout of earlier releases is converted."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from test_journal import CRLF, PLAN, fleet_copy, make_fleet, snapshot, start_many

import fleetshift.journal as journal_module
from fleetshift.journal import PAUSE_ENV, Journal, JournalError

WORKER = str(Path(__file__).with_name("test_journal.py"))
SRC = str(Path(__file__).resolve().parents[1] / "src")


def paused_writer(fleet: Path, at: str) -> subprocess.Popen[bytes]:
    """Start the PLAN writer in a child process and return once it waits at checkpoint `at`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLEETSHIFT_TEST")}
    env[PAUSE_ENV] = at
    proc = subprocess.Popen([sys.executable, WORKER, "write", str(fleet), "--no-fsync"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    line = proc.stderr.readline()
    assert line == f"paused at {at}\n".encode(), (line, proc.stderr.read())
    return proc


# The second write of PLAN replaces svc-a/data.bin; "replace" is passed twice per write (temp durable, replaced).
SECOND = PLAN[1]
CASES = [
    # (where the child is killed, entries the other process sees, state of the second entry, file replaced?)
    ("intent:open@2", 1, None, False),  # inside the intent's transaction: not committed, as if never begun
    ("intent:committed@2", 2, "intent", False),  # the intent is durable, the file not yet touched
    ("replace@3", 2, "intent", False),  # between the intent record and the replace (temp file written)
    ("replace@4", 2, "intent", True),  # replaced, "done" not yet recorded
    ("done:open@2", 2, "intent", True),  # inside the "done" transaction
    ("done:committed@2", 2, "done", True),
]


@pytest.mark.parametrize(("at", "count", "second", "replaced"), CASES, ids=[c[0] for c in CASES])
def test_sigkill_inside_a_commit_loses_nothing(tmp_path: Path, at: str, count: int, second: str | None,
                                               replaced: bool) -> None:
    original_fleet = make_fleet(tmp_path / "original")
    original = snapshot(original_fleet)
    fleet = fleet_copy(tmp_path, "fleet", original_fleet)
    proc = paused_writer(fleet, at)
    try:
        # Another process reads while the writer holds the run: a consistent, committed state.
        entries = Journal.open(fleet).entries()
        assert len(entries) == count, entries
        if second is not None:
            assert entries[1]["path"] == SECOND[1] and entries[1]["state"] == second
        assert ((fleet / SECOND[1]).read_bytes() == SECOND[2]) is replaced
        status = subprocess.run([sys.executable, "-m", "fleetshift", "status", str(fleet)], capture_output=True,
                                text=True, timeout=120, env={**os.environ, "PYTHONPATH": SRC})
        assert status.returncode == 0 and "running" in status.stdout, status.stdout + status.stderr
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
        assert proc.stderr is not None
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    done = subprocess.run([sys.executable, WORKER, "rollback", str(fleet), "--no-fsync"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert snapshot(fleet) == original, f"killed at {at}: tree differs after rollback"
    journal = Journal.open(fleet)
    assert journal.state()["status"] == "rolled-back"
    assert {e["state"] for e in journal.entries()} <= {"rolled-back", "abandoned"}


def test_readers_see_a_consistent_state_while_another_process_writes(tmp_path: Path) -> None:
    fleet = tmp_path / "fleet"
    fleet.mkdir()
    from test_journal import many_files

    many_files(fleet)
    original = snapshot(fleet)
    proc = start_many(fleet)
    reads = 0
    try:
        while proc.poll() is None:
            state = Journal.open(fleet).state()
            seqs = sorted(e["seq"] for s in state["services"].values() for e in s["files"])
            assert seqs == list(range(1, len(seqs) + 1)) and state["next_seq"] == len(seqs) + 1
            assert {e["state"] for s in state["services"].values() for e in s["files"]} <= {"intent", "done"}
            reads += 1
    finally:
        proc.wait(60)
        assert proc.stdout is not None
        proc.stdout.close()
    assert proc.returncode == 0 and reads >= 3
    assert Journal.open(fleet).rollback().clean and snapshot(fleet) == original


def test_a_run_folder_in_the_json_layout_is_converted_and_rolled_back(tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path / "fleet")
    original = snapshot(fleet)
    journal = Journal.start(fleet, {"command": "run"})
    journal.set_step("svc-a", "rewrite", "done", "2 file(s)")
    journal.write("svc-a", "svc-a/app.py", b"new\n", ("tenacity",))
    journal.write("svc-b", "svc-b/new.py", b"x\n", ("aiomqtt",), expect=None)
    state = journal.state()
    journal.close()
    for name in ("state.db", "state.db-wal", "state.db-shm"):
        (journal.path / name).unlink(missing_ok=True)
    (journal.path / "state.json").write_text(json.dumps(state))  # as an earlier release left it

    assert Journal.runs(fleet) == [journal.run_id]
    old = Journal.open(fleet)
    assert old.state() == state
    assert (journal.path / "state.db").is_file() and (journal.path / "state.json").is_file()
    assert old.rollback().clean and snapshot(fleet) == original
    assert (fleet / "svc-a/app.py").read_bytes() == CRLF

    broken = fleet_copy(tmp_path, "broken", fleet)
    run = broken / ".fleetshift" / "runs" / journal.run_id
    shutil.rmtree(run)
    run.mkdir()
    (run / "state.json").write_text('{"run_id": ')
    with pytest.raises(JournalError, match=rf"state file {run}/state.json .*cannot be read.*remove the folder {run}"):
        Journal.open(broken).state()


def _opcodes(journal: Journal, method: str, *args: object) -> int:
    """SQLite virtual-machine steps (in tens) that calling `journal.<method>(*args)` runs."""
    count = [0]

    def tick() -> int:
        count[0] += 1
        return 0

    journal._conn().set_progress_handler(tick, 10)
    try:
        getattr(journal, method)(*args)
    finally:
        journal._conn().set_progress_handler(None, 10)
    return count[0]


def test_a_step_costs_the_same_in_a_small_and_a_large_run(tmp_path: Path) -> None:
    """Recording a step, a status or a file write reads and writes a few rows, however many services the run
    holds (the JSON state was loaded and rewritten whole on every step)."""
    costs = {}
    for n in (10, 5000):
        fleet = make_fleet(tmp_path / f"fleet-{n}")
        journal = Journal.start(fleet)
        with journal._locked(), journal._tx() as db:  # a run that has recorded n services, with steps and files
            db.executemany("INSERT INTO services VALUES (?, 'passed')", [(f"s{i}",) for i in range(n)])
            db.executemany("INSERT INTO steps VALUES (?, 'rewrite', 'done', '', '')", [(f"s{i}",) for i in range(n)])
            db.executemany(
                "INSERT INTO files VALUES (?, ?, ?, 'absent', 'x', NULL, 420, '[]', '[]', 'done', '')",
                [(i + 1, f"s{i}", f"s{i}/f.py") for i in range(n)],
            )
            db.execute("UPDATE run SET next_seq = ?", (n + 1,))
        costs[n] = [
            _opcodes(journal, "set_step", "svc-a", "rewrite", "running"),
            _opcodes(journal, "set_step", "svc-a", "rewrite", "done", "1 file"),
            _opcodes(journal, "set_service_status", "svc-a", "passed"),
            _opcodes(journal, "service_status", "svc-a"),
            _opcodes(journal, "write", "svc-a", "svc-a/app.py", b"new\n"),
            _opcodes(journal, "set_status", "completed"),
        ]
    small, large = costs[10], costs[5000]
    assert all(b <= a + 2 for a, b in zip(small, large, strict=True)), costs
    assert sum(large) < 60, costs  # a few hundred steps in all, not a pass over the 5000 services


def test_the_run_row_every_step_rewrites_stays_small_however_large_the_plan(tmp_path: Path) -> None:
    """Every transaction updates the `run` row (its time, status, next sequence number), and SQLite rewrites a row
    whole: the run's meta (the plan's snapshot, ~0.9 kB per service) is kept apart in `run_meta`, so a step of a
    run of 3,000 services does not read and rewrite megabytes (it cost ~10 ms of CPU per service there)."""
    fleet = make_fleet(tmp_path)
    plan = {f"svc-{i:04d}": {"phase": "B", "reasons": ["risk medium (3): long enough to weigh " * 4]} for i in range(3000)}
    journal = Journal.start(fleet, {"command": "run", "plan": plan})
    journal.set_step("svc-a", "rewrite", "running")
    journal.write("svc-a", "svc-a/app.py", b"new\n")
    db = journal._conn()
    assert db.execute("SELECT length(meta) FROM run").fetchone() == (2,)
    assert db.execute("SELECT length(meta) FROM run_meta").fetchone()[0] > 500_000
    state = journal.state()
    assert state["meta"] == {"command": "run", "plan": plan}
    assert state["services"]["svc-a"]["steps"]["rewrite"]["status"] == "running"
    journal.close()
    assert Journal.open(fleet).state()["meta"]["plan"] == plan


def test_a_state_database_of_an_earlier_release_keeps_its_meta_in_the_run_row(tmp_path: Path) -> None:
    """A database written before `run_meta` existed holds the meta in `run.meta`: it is read from there."""
    import sqlite3

    fleet = make_fleet(tmp_path)
    journal = Journal.start(fleet, {"command": "run", "plan": {"svc-a": {"phase": "A"}}})
    journal.close()
    db = sqlite3.connect(journal.path / "state.db", isolation_level=None)
    db.execute("DROP TABLE run_meta")  # the earlier layout
    db.execute("UPDATE run SET meta = ?", (json.dumps({"command": "run", "plan": {"svc-b": {"phase": "C"}}}),))
    db.close()
    old = Journal.open(fleet)
    assert old.state()["meta"] == {"command": "run", "plan": {"svc-b": {"phase": "C"}}}
    old.set_step("svc-b", "rewrite", "done", "1 file")
    old.write("svc-a", "svc-a/app.py", b"newer\n")
    assert old.state()["meta"]["plan"] == {"svc-b": {"phase": "C"}}
    assert old.rollback().clean


def run_batches(fleet: Path) -> None:
    """PLAN's writes (the first of each file) as one `write_many` per service."""
    journal = Journal.start(fleet, {"command": "run"})
    seen: set[str] = set()
    for service in ("svc-a", "svc-b"):
        batch = []
        for svc, rel, new, recipes in PLAN:
            if svc == service and rel not in seen:
                seen.add(rel)
                path = fleet / rel
                batch.append((rel, new, recipes, path.read_bytes() if path.exists() else None))
        journal.write_many(service, batch)
    journal.set_status("completed")


def run_replacing_batches(fleet: Path) -> None:
    """PLAN's writes that replace a file in a folder that exists (no deletion, no new folder), one `write_many`
    per service: the batches whose temp files are written side by side."""
    journal = Journal.start(fleet, {"command": "run"})
    for service in ("svc-a", "svc-b"):
        batch: dict[str, tuple[str, bytes | None, tuple[str, ...], bytes | None]] = {}
        for svc, rel, new, recipes in PLAN:
            path = fleet / rel
            if svc == service and new is not None and rel not in batch and path.parent.is_dir():
                batch[rel] = (rel, new, recipes, path.read_bytes() if path.exists() else None)
        journal.write_many(service, list(batch.values()))
    journal.set_status("completed")


def _forked(fleet: Path, crash_at: int, out: Path | None = None, rollback: bool = False,
            batches: Callable[[Path], None] = run_batches) -> int:
    """Run the batches (or a rollback) in a forked child that dies at checkpoint `crash_at` (0: never)."""
    pid = os.fork()
    if pid == 0:
        try:
            os.environ[journal_module.CRASH_ENV] = str(crash_at) if crash_at else ""
            journal_module._checkpoints = 0
            os.fsync = lambda fd: None
            if rollback:
                os._exit(0 if Journal.open(fleet).rollback().clean else 2)
            batches(fleet)
            if out is not None:
                out.write_text(str(journal_module.checkpoints_passed()))
            os._exit(0)
        except BaseException:
            os._exit(1)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


@pytest.mark.parametrize("batches", [run_batches, run_replacing_batches])
def test_write_many_killed_at_every_checkpoint_then_rollback_restores_everything(
        tmp_path: Path, batches: Callable[[Path], None]) -> None:
    original_fleet = make_fleet(tmp_path / "original")
    original = snapshot(original_fleet)
    probe = fleet_copy(tmp_path, "probe", original_fleet)
    assert _forked(probe, 0, tmp_path / "count", batches=batches) == 0
    total = int((tmp_path / "count").read_text())
    batch_files = {rel for _, rel, new, _ in PLAN if batches is run_batches
                   or (new is not None and (original_fleet / rel).parent.is_dir())}
    assert {e["path"] for e in Journal.open(probe).entries()} == batch_files
    assert all(e["state"] == "done" for e in Journal.open(probe).entries())
    assert total > 3 * len(batch_files)
    for n in range(1, total + 1):
        fleet = fleet_copy(tmp_path, f"c{n}", original_fleet)
        assert _forked(fleet, n, batches=batches) == 137, n
        if Journal.runs(fleet):  # rolled back in a fresh process
            assert _forked(fleet, 0, rollback=True) == 0, n
        assert snapshot(fleet) == original, f"batch killed at checkpoint {n}: tree differs after rollback"
        shutil.rmtree(fleet)


def test_write_many_checks_every_file_before_writing_any(tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path / "fleet")
    original = snapshot(fleet)
    journal = Journal.start(fleet)
    with pytest.raises(JournalError, match=r"svc-a/bom\.py changed since it was read"):
        journal.write_many("svc-a", [("svc-a/app.py", b"new\n", ("r",), CRLF), ("svc-a/bom.py", b"x\n", ("r",), b"stale")])
    assert snapshot(fleet) == original and journal.entries() == []
