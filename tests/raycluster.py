"""A local Ray cluster for the tests, as processes of its own, and fleetshift runs joining it as processes of their
own: no Ray driver ever lives in the test process (a Ray driver's C++ core worker, its threads, signal handlers
and aborts would share the fate of the pytest worker that xdist needs alive).

`start_head` runs `ray start --head --block` in a session of its own (the head, its GCS, raylet and agents, and
the workers the raylet starts are that session's process group); `stop_head` ends exactly that group: SIGTERM,
a wait, SIGKILL for what is left (never `ray stop`, which ends every Ray on the machine). The cluster uses token
authentication with a token of its own, given to each process that joins it through the environment (Ray 2.60's
`ray start` turns token authentication on when ~/.ray/auth_token exists, and a driver given an explicit address
never reads that file by itself: this keeps the tests the same with or without it)."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import fleetshift

READY = "Ray runtime started."
SRC = str(Path(fleetshift.__file__).resolve().parents[1])  # the fleetshift under test, for the child processes


@dataclass
class RayCluster:
    address: str  # 127.0.0.1:<port>, the GCS a driver joins
    env: dict[str, str]  # what a process joining the cluster needs in its environment (the auth token)
    proc: subprocess.Popen[bytes]
    temp_dir: Path
    output: Path  # the head's stdout and stderr
    pids: set[int] = field(default_factory=set)  # every process of the group seen, for the check at the end

    def head_output(self) -> str:
        return self.output.read_text(errors="replace") if self.output.is_file() else ""


def free_port() -> int:
    """A TCP port free on every interface (the GCS listens on all of them)."""
    with socket.socket() as sock:
        sock.bind(("", 0))
        return int(sock.getsockname()[1])


def session_members(sid: int) -> list[int]:
    """The live processes (zombies left out) of session `sid` (Linux /proc): the head's session holds its
    process group and the Ray workers, each a process group of its own."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[3]) == sid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie is dead: it only waits for its parent to read its status)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment for a child: pytest's own variables left out, the fleetshift under test first
    on PYTHONPATH, no usage stats, a wide console (so no line of the CLI's output is wrapped)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (SRC, env.get("PYTHONPATH", "")) if p)
    env.update({"RAY_USAGE_STATS_ENABLED": "0", "COLUMNS": "200"})
    env.update(extra or {})
    return env


def start_head(num_cpus: int = 2, timeout: float = 120) -> RayCluster:
    """`ray start --head --block` on 127.0.0.1, a free port, `num_cpus` CPUs; returns once the cluster answers
    (its head says the runtime started and its GCS port takes connections), or raises with the head's output."""
    port = free_port()
    temp_dir = Path(tempfile.mkdtemp(prefix="ray", dir="/tmp"))  # short: Unix socket paths end at ~107 bytes
    output = temp_dir / "head.out"
    env = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
    script = Path(sys.executable).with_name("ray")  # the ray CLI of this Python (else its module)
    ray_cli = [str(script)] if script.is_file() else [sys.executable, "-m", "ray.scripts.scripts"]
    cmd = [*ray_cli, "start", "--head", "--block",
           "--node-ip-address", "127.0.0.1", "--port", str(port), "--num-cpus", str(num_cpus),
           "--include-dashboard", "false", "--disable-usage-stats", "--temp-dir", str(temp_dir)]  # fmt: skip
    # drain timeout 0: on SIGTERM the head ends its processes at once (Ray 2.60 first waits up to 30 s for the
    # node to drain, asking a GCS that the same signal is ending)
    with open(output, "wb") as out:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                env=child_env({**env, "RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S": "0"}),
                                start_new_session=True)  # fmt: skip
    cluster = RayCluster(f"127.0.0.1:{port}", env, proc, temp_dir, output)
    deadline = time.monotonic() + timeout
    try:
        while True:
            cluster.pids.update(session_members(proc.pid))
            if proc.poll() is not None:
                raise RuntimeError(f"ray start --head ended with {proc.returncode} before the cluster answered")
            if READY in cluster.head_output() and _answers(port):
                return cluster
            if time.monotonic() > deadline:
                raise RuntimeError(f"the Ray head did not answer on {cluster.address} within {timeout:.0f} s")
            time.sleep(0.2)
    except BaseException as exc:
        said = cluster.head_output()
        stop_head(cluster)
        raise RuntimeError(f"{exc}; its output:\n{said}") from None


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


def stop_head(cluster: RayCluster, grace: float = 20) -> list[int]:
    """End the head's session: SIGTERM to the head's process group (the head then ends its GCS, raylet and
    agents; the workers end with their raylet), up to `grace` seconds for the session to empty, then SIGKILL
    for every process of it still there. Returns those that needed the SIGKILL. The head's temp dir is removed."""
    sid = cluster.proc.pid
    cluster.pids.update(session_members(sid))
    try:
        os.killpg(sid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + grace
    while session_members(sid) and time.monotonic() < deadline:
        cluster.proc.poll()
        time.sleep(0.1)
    killed = session_members(sid)
    for pid in killed:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        cluster.proc.wait(10)
    except subprocess.TimeoutExpired:
        pass
    deadline = time.monotonic() + 10
    while session_members(sid) and time.monotonic() < deadline:
        time.sleep(0.1)
    shutil.rmtree(cluster.temp_dir, ignore_errors=True)
    return killed


@dataclass
class CliRun:
    returncode: int
    output: str  # stdout and stderr, as the user sees them
    seconds: float


def fleetshift_cli(*args: object, env: dict[str, str] | None = None, timeout: float = 600) -> CliRun:
    """`python -m fleetshift ARGS` as a process of its own (no terminal, stdin /dev/null, a session of its own:
    on the timeout its whole group is killed and the test fails with what it printed)."""
    proc = popen_cli(*args, env=env)
    start = time.monotonic()
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        out, _ = proc.communicate()
        raise AssertionError(f"fleetshift {' '.join(map(str, args))} still ran after {timeout:.0f} s; "
                             f"its output:\n{out}") from None  # fmt: skip
    return CliRun(proc.returncode, out, time.monotonic() - start)


def popen_cli(*args: object, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "fleetshift", *map(str, args)], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=child_env(env),
                            start_new_session=True)  # fmt: skip


def kill_group(proc: subprocess.Popen[str]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
