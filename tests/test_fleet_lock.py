"""One run per fleet: a second run, resume or rollback is refused while a run holds `.fleetshift/lock`, status
still reads the run, and the lock of a killed run is taken over. Real processes, a real generated fleet."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fleetshift.journal import FleetLock, FleetLocked

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import scan as scan_bench

SRC = str(Path(__file__).resolve().parents[1] / "src")


def env() -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    out["PYTHONPATH"] = SRC + os.pathsep + out.get("PYTHONPATH", "")
    return out


def fleetshift(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fleetshift", *map(str, args)], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=240, env=env())


def wait_for(path: Path, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    end = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, f"the first run ended early ({proc.returncode})"
        assert time.monotonic() < end, f"{path} never appeared"
        time.sleep(0.1)


def test_second_command_refused_while_a_run_holds_the_fleet_and_a_dead_holder_is_taken_over(tmp_path: Path) -> None:
    fleet = tmp_path / "fleet"
    scan_bench.generate(fleet, 4, 8, 0.5, stack="worker")
    started, release = tmp_path / "started", tmp_path / "release"
    hook = f"touch {started}; while [ ! -e {release} ]; do sleep 0.1; done"
    (fleet / "fleetshift.toml").write_text(f"[hooks]\nbefore_run = {json.dumps(hook)}\n")
    cmd = [sys.executable, "-m", "fleetshift", "run", str(fleet), "--no-verify", "--yes"]
    with open(tmp_path / "first.log", "wb") as log:
        first = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env(),
                                 start_new_session=True)
        try:
            wait_for(started, first)
            holder = json.loads((fleet / ".fleetshift" / "lock").read_text())
            assert holder["pid"] == first.pid and holder["host"] == socket.gethostname()
            assert holder["run_id"] and holder["started"] and holder["command"] == "run"
            for args in (("run", fleet, "--no-verify", "--yes"), ("resume", fleet, "--yes"), ("rollback", fleet)):
                res = fleetshift(*args)
                assert res.returncode == 2, (args, res.stdout, res.stderr)
                text = " ".join(res.stderr.split())
                assert f"pid {first.pid}" in text and holder["run_id"] in text and holder["started"] in text, text
                assert "Fix:" in text
            status = fleetshift("status", fleet)  # never needs the lock
            assert status.returncode == 0 and holder["run_id"] in status.stdout, status.stdout + status.stderr
            os.killpg(first.pid, signal.SIGKILL)
        finally:
            if first.poll() is None:
                os.killpg(first.pid, signal.SIGKILL)
            first.wait(30)
    assert len(list((fleet / ".fleetshift" / "runs").iterdir())) == 1  # the refused run started nothing
    assert (fleet / ".fleetshift" / "lock").exists()  # left behind by the killed run
    res = fleetshift("rollback", fleet)
    assert res.returncode == 0, res.stdout + res.stderr
    text = " ".join(res.stderr.split())
    assert "took over the fleet lock" in text and f"pid {first.pid}" in text and "gone" in text, text
    assert not (fleet / ".fleetshift" / "lock").exists()
    release.touch()
    res = fleetshift("run", fleet, "--no-verify", "--yes")  # free again
    assert res.returncode == 0, res.stdout + res.stderr
    assert not (fleet / ".fleetshift" / "lock").exists()


def test_lock_of_another_host_is_refused_and_released_lock_is_free(tmp_path: Path) -> None:
    (tmp_path / ".fleetshift").mkdir()
    lock = tmp_path / ".fleetshift" / "lock"
    lock.write_text(json.dumps({"pid": 1, "host": "elsewhere.example", "run_id": "r1", "started": "t0",
                                "command": "run"}))
    with pytest.raises(FleetLocked, match=r"pid 1 on elsewhere.example, run r1, since t0.*remove .*lock"):
        FleetLock.acquire(tmp_path, "run")
    lock.unlink()
    with FleetLock.acquire(tmp_path, "rollback", "r2") as held:
        assert held.message == ""
        assert json.loads(lock.read_text())["run_id"] == "r2"
        with pytest.raises(FleetLocked, match=f"rollback \\(pid {os.getpid()}"):
            FleetLock.acquire(tmp_path, "run")
    assert not lock.exists()
    with FleetLock.acquire(tmp_path, "run"):
        pass


def held_run(tmp_path: Path, services: int, hook: str) -> tuple[Path, subprocess.Popen[bytes]]:
    """A generated fleet and a real `run` on it that waits in its before_run hook (holding the fleet lock)."""
    fleet = tmp_path / "fleet"
    scan_bench.generate(fleet, services, 8, 0.5, stack="worker")
    (fleet / "fleetshift.toml").write_text(f"[hooks]\nbefore_run = {json.dumps(hook)}\n")
    cmd = [sys.executable, "-m", "fleetshift", "run", str(fleet), "--no-verify", "--yes"]
    run = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           env=env(), start_new_session=True)
    return fleet, run


def watcher(fleet: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "fleetshift", "status", str(fleet), "--watch"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env())


def test_status_watch_follows_a_run_from_another_process_to_its_end(tmp_path: Path) -> None:
    started, release = tmp_path / "started", tmp_path / "release"
    fleet, run = held_run(tmp_path, 6, f"touch {started}; while [ ! -e {release} ]; do sleep 0.1; done")
    watch: subprocess.Popen[str] | None = None
    try:
        wait_for(started, run)
        watch = watcher(fleet)
        release.touch()
        assert run.wait(240) == 0
        out, errors = watch.communicate(timeout=120)
    finally:
        for proc in (run, watch):
            if proc is not None and proc.poll() is None:
                proc.kill()
    assert watch.returncode == 0, errors
    lines = [line for line in out.splitlines() if line.strip()]
    assert any("0/" in line for line in lines[:2]), out  # it saw the run before any service was done
    assert "A:" in out and "elapsed" in lines[-1], out
    phases = [p for p in " ".join(lines[-2:]).split(" · ") if "/" in p]  # "A: 2/2 done, ..." per phase
    done = [int(p.split("/")[0].split()[-1]) for p in phases]
    totals = [int(p.split("/")[1].split()[0]) for p in phases]
    assert done == totals and sum(totals) == 6, out  # and it followed the run to its end


def test_status_watch_ends_when_the_run_it_follows_is_killed(tmp_path: Path) -> None:
    """A run killed mid-way leaves its state saying "running"; nothing holds the fleet lock any more, so
    `status --watch` stops (exit 1) and says how to resume or undo, instead of waiting forever."""
    started = tmp_path / "started"
    fleet, run = held_run(tmp_path, 4, f"touch {started}; sleep 600")
    watch: subprocess.Popen[str] | None = None
    try:
        wait_for(started, run)
        watch = watcher(fleet)
        time.sleep(2)
        assert watch.poll() is None, "status --watch stopped while the run was alive"
        os.killpg(run.pid, signal.SIGKILL)
        run.wait(30)
        out, errors = watch.communicate(timeout=60)
    finally:
        for proc in (run, watch):
            if proc is not None and proc.poll() is None:
                proc.kill()
    assert watch.returncode == 1, (out, errors)
    assert "stopped without finishing" in out and "fleetshift resume" in out, out
