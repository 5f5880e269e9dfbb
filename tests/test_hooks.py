"""Hooks run shell commands with the campaign's context; a hook that times out takes its children with it."""

from __future__ import annotations

import os
import time
from pathlib import Path

from fleetshift.hooks import Hooks


def test_a_timed_out_hook_kills_the_commands_it_started(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    hooks = Hooks({"build": (f"sleep 60 & echo $! > {pidfile}; wait",)}, tmp_path / "logs", {}, timeout=1.0, plugins=[])
    started = time.monotonic()
    result = hooks.run("build", cwd=tmp_path, service="svc")
    assert not result.ok and "timed out after 1 s" in result.detail
    assert time.monotonic() - started < 15
    child = int(pidfile.read_text())
    time.sleep(0.2)
    try:
        os.kill(child, 0)
        alive = Path(f"/proc/{child}/stat").read_text().split()[2] != "Z"
    except ProcessLookupError:
        alive = False
    assert not alive, "the hook's background child outlived the timeout"


def test_hook_output_and_exit_code(tmp_path: Path) -> None:
    hooks = Hooks({"after_service": ("echo $FLEETSHIFT_SERVICE-$FLEETSHIFT_POINT; exit 3",)}, tmp_path / "logs", {},
                  plugins=[])
    result = hooks.run("after_service", cwd=tmp_path, service="svc")
    assert not result.ok and "exited 3" in result.detail
    (log,) = (tmp_path / "logs").iterdir()
    assert "svc-after_service" in log.read_text()
    assert hooks.run("before_service", cwd=tmp_path, service="svc").ok  # no command there: nothing fails


def test_run_captured_kills_the_whole_process_group_on_timeout(tmp_path) -> None:
    """A captured command (the resolver, relocking, interpreter probes) that starts a child and hangs: at the
    timeout the child is gone too, not left running."""
    import os
    import sys
    import time

    from fleetshift.proc import run_captured

    pidfile = tmp_path / "child.pid"
    script = (
        "import subprocess, sys, time\n"
        f"child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(pidfile)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(60)\n"
    )
    started = time.monotonic()
    done = run_captured([sys.executable, "-c", script], timeout=2)
    assert done.timed_out and done.code is None and not done.ok
    assert time.monotonic() - started < 30
    child = int(pidfile.read_text())
    for _ in range(50):
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        try:  # a killed child nobody reaped yet is a zombie: gone for this purpose
            if "\nState:\tZ" in open(f"/proc/{child}/status").read():
                break
        except OSError:
            break
        time.sleep(0.1)
    else:
        raise AssertionError(f"child {child} still runs after the timeout")


def test_run_captured_reports_a_missing_program() -> None:
    from fleetshift.proc import run_captured

    done = run_captured(["/nonexistent/fleetshift-no-such-tool"], timeout=5)
    assert done.code is None and not done.timed_out and "cannot run" in done.error
