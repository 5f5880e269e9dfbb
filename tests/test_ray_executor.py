"""The Ray executor on a real local Ray cluster (one head on 127.0.0.1 with two CPUs, started once for the module
by `ray start --head`, as processes of its own), every run a `fleetshift` process joining it with
`--ray-address` or `[run] ray_address` (no Ray driver in the test process): the demo campaign gets the same
verdict per service through Ray as on the local executor; a worker killed mid-task is retried and its service
passes, killed twice it is unverifiable and restored; a service whose tests regress is rolled back by the
conductor; a run stopped on Ray resumes on the local executor; Ctrl-C ends a run on Ray and the tests its task
started."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fleet_factory import make_fleet
from raycluster import RayCluster, alive, fleetshift_cli, kill_group, popen_cli, start_head, stop_head
from test_campaign import BROKEN_TEST_ID, MIGRATED_APP, service_files, tree
from typer.testing import CliRunner, Result

from fleetshift.cli import app
from fleetshift.journal import read_state

if os.environ.get("CI"):  # CI installs the ray extra: its absence must fail there, not skip
    assert importlib.util.find_spec("ray") is not None, "CI installs the ray extra (pip install -e '.[test,ray]')"
elif importlib.util.find_spec("ray") is None:
    pytest.skip("the ray extra is not installed", allow_module_level=True)

pytestmark = pytest.mark.slow

DEMO = Path(__file__).resolve().parents[1] / "examples" / "homeiq"
IGNORE = shutil.ignore_patterns(".fleetshift", "__pycache__", ".pytest_cache", ".venv")
runner = CliRunner()

# Kills the Ray worker running this test session (found among the pytest process's ancestors by its
# "ray::" process title) on the attempts KILL_AT names, counting every pytest start in KILL_COUNTER.
KILLER = '''\
import os
import signal


def pytest_configure(config):
    counter = os.environ.get("KILL_COUNTER")
    if not counter:
        return
    n = int(open(counter).read()) if os.path.exists(counter) else 0
    with open(counter, "w") as fh:
        fh.write(str(n + 1))
    if str(n) not in os.environ.get("KILL_AT", "").split(","):
        return
    pid = os.getpid()
    while pid > 1:
        with open(f"/proc/{pid}/stat") as fh:
            pid = int(fh.read().rsplit(")", 1)[1].split()[1])
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            if fh.read().startswith(b"ray::"):
                os.kill(pid, signal.SIGKILL)
                os._exit(1)
    raise RuntimeError("no Ray worker among this process's ancestors")
'''


@pytest.fixture(scope="module")
def cluster() -> Iterator[RayCluster]:
    """A local Ray cluster on the loopback interface, shared by the module (its CLI runs join it); at the end
    every process of its session is gone."""
    head = start_head(num_cpus=2)
    try:
        yield head
    finally:
        stop_head(head)
        left = [pid for pid in head.pids if alive(pid)]
        assert not left, f"processes of the Ray head still run: {left}"


def invoke(*args: object) -> Result:
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def on_ray(cluster: RayCluster, *args: object, timeout: float = 600) -> Any:
    """`fleetshift ARGS --ray-address ADDRESS` as a process of its own, joining the module's cluster."""
    return fleetshift_cli(*args, "--ray-address", cluster.address, env=cluster.env, timeout=timeout)


def results(root: Path) -> dict[str, Any]:
    run_dir = sorted((root / ".fleetshift" / "runs").iterdir())[-1]
    data = json.loads((run_dir / "results.json").read_text())
    return {"run_dir": run_dir, "by_name": {s["name"]: s for s in data["services"]}}


def test_faults_retry_unverifiable_rollback_and_resume_on_local(cluster: RayCluster, tmp_path: Path) -> None:
    """One fleet, one run on Ray: `solo`'s worker is killed on the first attempt of its run on the new pins and
    the retry passes (its health check too, on the node); `twice`'s worker is killed on both attempts: unverifiable, its files restored; `bad`'s
    tests regress: failed, rolled back by the conductor. The run stops before phase D (no approval) and is
    resumed with `--executor local`, which verifies `later` here."""
    counters = {name: tmp_path / f"{name}.count" for name in ("solo", "twice")}
    config = f"""\
        failure_threshold = 0.9

        [services.solo]
        env = {{ KILL_COUNTER = "{counters['solo']}", KILL_AT = "1" }}
        health = {{ command = "python -c 'import sys, app; assert sys.prefix != sys.base_prefix'", timeout = 60 }}

        [services.twice]
        env = {{ KILL_COUNTER = "{counters['twice']}", KILL_AT = "1,2" }}
        """
    phases = {"solo": "A", "twice": "A", "bad": "A", "later": "D"}
    toml = '[fleet]\nservices = ["services/*"]\n' + textwrap.dedent(config)
    toml += "\n[fleet.phases]\n" + "".join(f'"{name}" = "{letter}"\n' for name, letter in phases.items())
    files: dict[str, str] = {"fleetshift.toml": toml}
    for name in phases:
        files.update(service_files(name, broken=name == "bad"))
    files["services/solo/conftest.py"] = files["services/twice/conftest.py"] = KILLER
    root = make_fleet(tmp_path / "fleet", files)
    original = tree(root)

    first = on_ray(cluster, "run", root, "--executor", "ray", "--jobs", "3")
    assert first.returncode == 3 and "phase D needs approval" in first.output, first.output
    assert "on node " in first.output  # progress says where each step ran
    state = read_state(results(root)["run_dir"])
    assert state["meta"]["executor"] == "ray"

    # Baseline (0), the killed attempt (1), its retry (2); `twice`: both attempts killed.
    assert counters["solo"].read_text() == "3" and counters["twice"].read_text() == "3"
    resumed = invoke("resume", root, "--executor", "local", "--yes")  # no Ray driver: in this process
    assert resumed.exit_code == 0, resumed.output  # this run's one service, `later`, passed
    got = results(root)
    by = got["by_name"]

    solo = by["solo"]
    assert solo["verdict"] == "passed", solo["reason"]
    assert "ray node" in solo["node"] and "ray node" in solo["tests"]["before"]["node"]
    assert (root / "services/solo/app.py").read_text() == MIGRATED_APP
    log = Path(solo["tests"]["after"]["log"])  # the node's log, written under the real run folder
    assert log.is_file() and log.is_relative_to(got["run_dir"]) and "passed" in log.read_text()
    health = solo["health"]  # run on the node, in the environment on the new pins, right after the tests
    assert health["ok"], health
    assert Path(health["log"]).is_relative_to(got["run_dir"]) and Path(health["log"]).is_file()

    twice = by["twice"]
    assert twice["verdict"] == "unverifiable" and twice["rolled_back"], twice
    assert "lost" in twice["reason"] and "WorkerCrashedError" in twice["reason"], twice["reason"]
    assert {k: v for k, v in tree(root).items() if k.startswith("services/twice/")} == {
        k: v for k, v in original.items() if k.startswith("services/twice/")
    }

    bad = by["bad"]
    assert bad["verdict"] == "failed" and bad["rolled_back"] and bad["failing_tests"] == [BROKEN_TEST_ID], bad
    assert "ray node" in bad["node"]
    assert {k: v for k, v in tree(root).items() if k.startswith("services/bad/")} == {
        k: v for k, v in original.items() if k.startswith("services/bad/")
    }

    later = by["later"]  # its baseline was taken on Ray; phase D ran on the resume, on the local executor
    assert later["verdict"] == "passed", later
    assert "ray node" in later["tests"]["before"]["node"] and later["tests"]["after"]["node"] == ""


# The whole demo campaign (14 services) takes minutes per side on 2 cores: the suite runs three of its services
# (pytest, pytest-asyncio, tenacity, aiomqtt and python-dotenv rewrites, and a no-op), and the whole campaign
# when FLEETSHIFT_WHOLE_DEMO_ON_RAY=1 (benchmarks/ray_cluster.py compares the whole campaign too, and exits 1 when a
# verdict differs).
DEMO_SUBSET = ("ai-core-service", "calendar-service", "weather-api")


def demo_on_both(cluster: RayCluster, base: Path, services: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """The demo campaign (or `services` of it), verified, through Ray (baselines and runs on the new pins as Ray
    tasks), then on the local executor on a fresh copy given the Ray run's baseline cache (so the local side
    runs only the steps on the new pins, and the cache the conductor kept for Ray serves a local run)."""
    out: dict[str, dict[str, Any]] = {}
    cache: Path | None = None
    only = [arg for name in services for arg in ("--service", name)]
    for executor in ("ray", "local"):
        root = base / executor / "homeiq"
        shutil.copytree(DEMO, root, ignore=IGNORE)
        if cache is not None:
            shutil.copytree(cache, root / ".fleetshift" / "cache" / "baseline")
        args = ("run", root, "--yes", "--jobs", "2", "--executor", executor, *only)
        if executor == "ray":
            res = on_ray(cluster, *args, timeout=1800)
            code, output = res.returncode, res.output
        else:  # the local executor makes no Ray driver: in this process
            local = invoke(*args)
            code, output = local.exit_code, local.output
        assert code in (0, 1), output
        out[executor] = results(root)["by_name"]
        cache = root / ".fleetshift" / "cache" / "baseline"
    return out


def assert_same_verdicts(local: dict[str, dict[str, Any]], remote: dict[str, dict[str, Any]]) -> None:
    assert set(local) == set(remote)
    assert {n: s["verdict"] for n, s in remote.items()} == {n: s["verdict"] for n, s in local.items()}
    assert {n: s["rolled_back"] for n, s in remote.items()} == {n: s["rolled_back"] for n, s in local.items()}
    assert any(s["verdict"] == "passed" for s in remote.values())
    for name, svc in remote.items():
        if svc["tests"]["before"]:  # every step that ran, ran on the cluster
            assert "ray node" in svc["tests"]["before"]["node"] and not svc["tests"]["before"]["cached"], name
            assert local[name]["tests"]["before"]["cached"], name  # the local side took Ray's baseline
        if svc["tests"]["after"]:
            assert "ray node" in svc["tests"]["after"]["node"], name
            assert local[name]["tests"]["after"]["node"] == ""
            assert svc["tests"]["after"]["passed"] == local[name]["tests"]["after"]["passed"], name


def test_demo_services_on_ray_have_the_local_verdicts(cluster: RayCluster, tmp_path: Path) -> None:
    got = demo_on_both(cluster, tmp_path, DEMO_SUBSET)
    assert_same_verdicts(got["local"], got["ray"])
    verdicts = {n: s["verdict"] for n, s in got["ray"].items() if n in DEMO_SUBSET}
    assert verdicts == {"ai-core-service": "passed", "calendar-service": "passed", "weather-api": "no-op"}


@pytest.mark.skipif(os.environ.get("FLEETSHIFT_WHOLE_DEMO_ON_RAY") != "1",
                    reason="the whole demo on both executors takes minutes: set FLEETSHIFT_WHOLE_DEMO_ON_RAY=1")
def test_whole_demo_campaign_on_ray_has_the_local_verdicts(cluster: RayCluster, tmp_path: Path) -> None:
    got = demo_on_both(cluster, tmp_path, ())
    assert len(got["local"]) >= 13
    assert_same_verdicts(got["local"], got["ray"])
    assert got["ray"]["data-retention"]["verdict"] == "failed" and got["ray"]["data-retention"]["rolled_back"]


def test_ray_executor_without_ray_installed_exits_2(tmp_path: Path) -> None:
    root = make_fleet(tmp_path / "fleet", {"fleetshift.toml": '[fleet]\nservices = ["services/*"]\n',
                                           **service_files("solo")})  # fmt: skip
    code = "import sys; sys.modules['ray'] = None; from fleetshift.cli import main; sys.argv[0] = 'fleetshift'; main()"
    proc = subprocess.run([sys.executable, "-c", code, "run", str(root), "--executor", "ray", "--yes"],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "pip install 'fleetshift[ray]'" in proc.stdout + proc.stderr
    assert not (root / ".fleetshift" / "runs").exists()


def test_run_help_documents_the_executor_options() -> None:
    res = invoke("run", "--help")
    for option in ("--executor", "--ray-address", "--shared-fs"):
        assert option in res.output


SLEEPER = '''\
import os
import time


def pytest_configure(config):
    path = os.environ.get("SLEEP_PIDFILE")
    if path:
        with open(path, "w") as fh:
            fh.write(str(os.getpid()))
        time.sleep(600)
'''


def _ancestry(pid: int) -> str:
    """`pid` and the processes above it, one per line (pid, state, command line), for a failure's message."""
    lines = []
    while pid > 1:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")[:200]
        except OSError:
            break
        lines.append(f"{pid} {stat[0]} pgid={stat[2]} sid={stat[3]} {cmd}")
        pid = int(stat[1])
    return "\n".join(lines)


def test_ctrl_c_ends_the_run_on_ray_and_the_tests_its_task_started(cluster: RayCluster, tmp_path: Path) -> None:
    """Ctrl-C's path: SIGINT to `fleetshift run` while its task runs the service's tests on the node (they would
    sleep ten minutes): the run cancels the task, which kills the test process it started, and ends in seconds
    as an interrupted run does (exit 1, its state saved, what to type next), not by an abort inside Ray (which
    also exits 1, saying none of that)."""
    pidfile = tmp_path / "pytest.pid"
    toml = f'[fleet]\nservices = ["services/*"]\n\n[services.slow]\nenv = {{ SLEEP_PIDFILE = "{pidfile}" }}\n'
    root = make_fleet(tmp_path / "fleet", {"fleetshift.toml": toml, **service_files("slow"),
                                           "services/slow/conftest.py": SLEEPER})  # fmt: skip
    proc = popen_cli("run", root, "--executor", "ray", "--ray-address", cluster.address, "--yes", env=cluster.env)
    try:
        deadline = time.monotonic() + 240
        while not pidfile.is_file() or not pidfile.read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                kill_group(proc)
                pytest.fail(f"the tests never started on the node; the run said:\n{proc.communicate()[0]}")
            time.sleep(0.2)
        pid = int(pidfile.read_text())
        assert alive(pid)
        start = time.monotonic()
        os.kill(proc.pid, signal.SIGINT)
        try:
            output = proc.communicate(timeout=30)[0]
        except subprocess.TimeoutExpired:
            kill_group(proc)
            pytest.fail(f"the run still ran 30 s after Ctrl-C; it said:\n{proc.communicate()[0]}")
        assert proc.returncode == 1, output
        assert "interrupted; the state is saved" in output and "(interrupted)" in output, output
        assert read_state(results(root)["run_dir"])["status"] == "interrupted"
        while alive(pid) and time.monotonic() - start < 40:
            time.sleep(0.2)
        assert not alive(pid), f"the tests started by the cancelled task still run:\n{_ancestry(pid)}"
    finally:
        if proc.poll() is None:
            kill_group(proc)
            proc.wait(30)


def test_shared_filesystem_sends_paths_and_the_config_picks_ray(cluster: RayCluster, tmp_path: Path) -> None:
    """`[run] executor = "ray"`, `ray_address` and `shared_filesystem = true` in fleetshift.toml: the run joins
    the cluster, the task works on the fleet in place (the baseline cache and logs are written by the node
    itself) and the service passes."""
    toml = ('[fleet]\nservices = ["services/*"]\n\n[run]\nexecutor = "ray"\n'
            f'ray_address = "{cluster.address}"\nshared_filesystem = true\n')  # fmt: skip
    root = make_fleet(tmp_path / "fleet", {"fleetshift.toml": toml, **service_files("solo")})
    res = fleetshift_cli("run", root, "--yes", env=cluster.env)
    assert res.returncode == 0, res.output
    got = results(root)
    solo = got["by_name"]["solo"]
    assert solo["verdict"] == "passed" and "ray node" in solo["node"], solo
    assert Path(solo["tests"]["after"]["log"]).is_relative_to(got["run_dir"])
    assert list((root / ".fleetshift" / "cache" / "baseline").glob("solo-*.json"))
    assert (root / "services/solo/app.py").read_text() == MIGRATED_APP
