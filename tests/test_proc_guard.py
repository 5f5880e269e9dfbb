"""Commands started by a process that may be killed outright (a Ray task's worker: Ray kills it when a cancelled
task has not ended within the conductor's grace) die with it: `proc.DIE_WITH_PARENT` runs them under a guard that
ends their process group when the thread that started it dies. The commands' exit codes, timeouts and group
kills are as without it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import fleetshift
from fleetshift import proc

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
SRC = str(Path(fleetshift.__file__).resolve().parents[1])


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def _starter(tmp_path: Path, guard: bool) -> tuple[subprocess.Popen[bytes], int]:
    """A process that runs a sleeping command through `run_logged` (guarded or not); the command's pid."""
    pidfile = tmp_path / "pid"
    command = [sys.executable, "-c", f"import os, time; open({str(pidfile)!r}, 'w').write(str(os.getpid())); "
               "time.sleep(600)"]
    script = ("import sys\nfrom pathlib import Path\nfrom fleetshift import proc\n"
              f"proc.DIE_WITH_PARENT = {guard}\n"
              f"with open({str(tmp_path / 'log')!r}, 'a') as log:\n"
              f"    proc.run_logged({command!r}, Path({str(tmp_path)!r}), {{}}, log, 600)\n")
    starter = subprocess.Popen([sys.executable, "-c", script], env={**os.environ, "PYTHONPATH": SRC})
    deadline = time.monotonic() + 30
    while not (pidfile.is_file() and pidfile.read_text()):
        assert time.monotonic() < deadline and starter.poll() is None, "the command never started"
        time.sleep(0.05)
    return starter, int(pidfile.read_text())


def _gone(pid: int, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not _alive(pid)


def test_a_guarded_command_dies_with_the_process_that_started_it(tmp_path: Path) -> None:
    starter, pid = _starter(tmp_path, guard=True)
    try:
        os.kill(starter.pid, signal.SIGKILL)  # as Ray kills a worker whose cancelled task did not end
        starter.wait()
        assert _gone(pid), "the guarded command outlived the process that started it"
    finally:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_without_the_guard_the_command_is_left_running(tmp_path: Path) -> None:
    """What the guard is for: the same command, unguarded, outlives its killed starter (its own session)."""
    starter, pid = _starter(tmp_path, guard=False)
    try:
        os.kill(starter.pid, signal.SIGKILL)
        starter.wait()
        time.sleep(0.5)
        assert _alive(pid)
    finally:
        os.kill(pid, signal.SIGKILL)


def test_guarded_commands_exit_time_out_and_print_as_unguarded_ones(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(proc, "DIE_WITH_PARENT", True)
    log_path = tmp_path / "log"
    with log_path.open("a") as log:
        assert proc.run_logged("echo said; exit 3", tmp_path, dict(os.environ), log, 30) == (3, False)
        assert proc.run_logged([sys.executable, "-c", "import sys; sys.exit(5)"], tmp_path, dict(os.environ), log,
                               30) == (5, False)
        pidfile = tmp_path / "slow.pid"
        slow = f"import os, time; open({str(pidfile)!r}, 'w').write(str(os.getpid())); time.sleep(600)"
        assert proc.run_logged([sys.executable, "-c", slow], tmp_path, dict(os.environ), log, 2) == (None, True)
    assert "said" in log_path.read_text()
    assert _gone(int(pidfile.read_text()), 5), "a timed-out guarded command still runs"
    with log_path.open("a") as log:
        server = proc.start_logged("exec sleep 600", tmp_path, dict(os.environ), log)
        time.sleep(0.3)
        proc.kill_group(server, grace=2)
        assert server.poll() is not None


def test_a_guarded_command_dies_when_its_guard_is_killed_outright(tmp_path: Path) -> None:
    """Ray SIGKILLs the direct children of a worker it kills: the guard itself. Its watcher ends the command."""
    starter, pid = _starter(tmp_path, guard=True)
    try:
        guard = int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])  # the command's parent
        assert guard != starter.pid
        os.kill(guard, signal.SIGKILL)
        assert _gone(pid), "the command outlived its guard"
    finally:
        for p in (pid, starter.pid):
            if _alive(p):
                os.kill(p, signal.SIGKILL)
