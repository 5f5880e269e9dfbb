"""A cancelled Ray task ends the commands its step started before it removes the scratch folder they run in.

Ray cancels a running task by raising KeyboardInterrupt in it, and kills the task's worker outright when it has
not ended a few seconds later (`RayExecutor.cancel`'s grace): whatever the task has not killed by then is left
running on the node. Removing a scratch folder holding a service's environment can take longer than that on a
busy node, so the step's commands must be dead before the folder's removal starts. The task body runs here in
this process (no cluster: only the interrupt Ray would raise is simulated, by raising it from the step)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from fleetshift import executors_ray, fsutil, proc
from fleetshift.config import FleetConfig
from fleetshift.discover import discover
from fleetshift.verify import VerifyRequest


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="kill_descendants reads /proc")
def test_the_steps_commands_are_dead_before_the_scratch_folder_is_removed(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[int] = []
    seen_at_removal: list[bool] = []

    def step(kind: str, request: VerifyRequest) -> dict:
        # a service's tests, as `proc.run_logged` starts them: a session of their own, in the scratch fleet
        proc = subprocess.Popen(["sleep", "600"], cwd=request.root, start_new_session=True)
        started.append(proc.pid)
        raise KeyboardInterrupt  # what Ray raises in the task it cancels

    real_rmtree = shutil.rmtree

    def rmtree(path: object, *args: object, **kwargs: object) -> None:
        if Path(str(path)).name.startswith("fleetshift-task-"):
            deadline = time.monotonic() + 5  # (a SIGKILL takes effect when the process next runs)
            while any(_alive(pid) for pid in started) and time.monotonic() < deadline:
                time.sleep(0.02)
            seen_at_removal.extend(_alive(pid) for pid in started)
        real_rmtree(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(executors_ray, "_steps", step)
    monkeypatch.setattr(proc, "DIE_WITH_PARENT", False)  # run_step sets it for its worker: restored after the test
    monkeypatch.setattr(executors_ray, "_node", lambda: "here")
    monkeypatch.setattr(fsutil.shutil, "rmtree", rmtree)
    root = tmp_path / "fleet"
    (root / "svc" / "tests").mkdir(parents=True)
    (root / "svc" / "requirements.txt").write_text("pytest==8.3.5\n")
    (root / "svc" / "tests" / "test_x.py").write_text("def test_x():\n    pass\n")
    root = root.resolve()
    request = VerifyRequest(root, discover(root, FleetConfig(root=root)).service("svc"), tmp_path / "run")
    payload = executors_ray.pack(root, request)
    try:
        with pytest.raises(KeyboardInterrupt):
            executors_ray.run_step("after", request, payload)
        assert started and seen_at_removal == [False], "the step's command still ran when its folder was removed"
    finally:
        for pid in started:
            if _alive(pid):
                os.kill(pid, 9)
        deadline = time.monotonic() + 5
        while any(_alive(pid) for pid in started) and time.monotonic() < deadline:
            time.sleep(0.05)
