"""Verified phased runs end to end on small synthetic fleets: real uv environments, real pytest runs on
tenacity 8.2.3 (baseline) and 9.x (after), rollback of what breaks, thresholds, crash and resume, hooks,
the phase D checkpoint, status, --no-verify and health checks."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from fleet_factory import make_fleet
from typer.testing import CliRunner, Result

from fleetshift.cli import app
from fleetshift.journal import JournalError, read_state

pytestmark = pytest.mark.slow

APP = """\
from tenacity import retry, stop_after_attempt, wait_none
from tenacity._asyncio import AsyncRetrying


@retry(stop=stop_after_attempt(3), wait=wait_none())
def flaky(box):
    box.append(1)
    if len(box) < 2:
        raise ValueError("the first try fails")
    return len(box)


def retrying_class():
    return AsyncRetrying
"""
TESTS = """\
from app import flaky, retrying_class


def test_flaky_retries_once():
    assert flaky([]) == 2
    assert flaky.retry.statistics["attempt_number"] == 2


def test_async_retrying_is_exported():
    assert retrying_class().__name__ == "AsyncRetrying"
"""
# Real 8.2.3 -> 8.3 behaviour change that no recipe can fix (reference T4): a custom wait is also called on
# the final attempt, so a counting wait sees [1, 2] on 8.2.3 and [1, 2, 3] on 9.x.
BROKEN_TESTS = """\
import pytest
from tenacity import retry, stop_after_attempt

calls = []


def counting_wait(retry_state):
    calls.append(retry_state.attempt_number)
    return 0


@retry(stop=stop_after_attempt(3), wait=counting_wait, reraise=True)
def always_fails():
    raise ValueError("down")


def test_wait_runs_between_attempts_only():
    calls.clear()
    with pytest.raises(ValueError):
        always_fails()
    assert calls == [1, 2]
"""
MIGRATED_APP = APP.replace(
    "from tenacity._asyncio import AsyncRetrying", "from tenacity import AsyncRetrying"
)
MIGRATED_TESTS = TESTS.replace("flaky.retry.statistics", "flaky.statistics")
BROKEN_TEST_ID = "tests.test_wait::test_wait_runs_between_attempts_only"

runner = CliRunner()


# ---- helpers ----------------------------------------------------------------------------------------------


def service_files(name: str, broken: bool = False) -> dict[str, str]:
    files = {
        f"services/{name}/requirements.txt": "tenacity==8.2.3\n",
        f"services/{name}/conftest.py": "",
        f"services/{name}/app.py": APP,
        f"services/{name}/tests/test_app.py": TESTS,
    }
    if broken:
        files[f"services/{name}/tests/test_wait.py"] = BROKEN_TESTS
    return files


def build_fleet(
    root: Path, services: dict[str, bool], config: str = "", phases: dict[str, str] | None = None
) -> Path:
    """A fleet of tiny tenacity 8.2.3 services (name -> broken on purpose) and its fleetshift.toml; every
    service is put in phase A unless `phases` says otherwise (the plan would spread them by risk rank)."""
    phases = {name: "A" for name in services} if phases is None else phases
    toml = '[fleet]\nservices = ["services/*"]\n' + textwrap.dedent(config)
    toml += "\n[fleet.phases]\n" + "".join(f'"{name}" = "{letter}"\n' for name, letter in phases.items())
    files: dict[str, str] = {"fleetshift.toml": toml}
    for name, broken in services.items():
        files.update(service_files(name, broken))
    return make_fleet(root, files)


def tree(root: Path, under: str = "") -> dict[str, str]:
    """sha256 of every file of the fleet (or of one folder of it), fleetshift's own folder excluded."""
    base = root / under
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(base.rglob("*"))
        if p.is_file() and ".fleetshift" not in p.relative_to(root).parts
    }


def assert_migrated(root: Path, name: str) -> None:
    folder = root / "services" / name
    assert (folder / "app.py").read_text() == MIGRATED_APP
    assert (folder / "tests" / "test_app.py").read_text() == MIGRATED_TESTS
    pin = (folder / "requirements.txt").read_text()
    # An exact pin stays exact, at the release the resolver chose; a range would start at 9.
    assert pin.startswith(("tenacity==9.", "tenacity>=9")) and "8.2.3" not in pin


def original_of(original: dict[str, str], name: str) -> dict[str, str]:
    """The original hashes of one service's files."""
    return {k: v for k, v in original.items() if k.startswith(f"services/{name}/")}


def invoke(*args: object) -> Result:
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(extra)
    return env


def fleetshift(*args: object, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """`python -m fleetshift ...` in a child process without a terminal (stdin is /dev/null)."""
    return subprocess.run([sys.executable, "-m", "fleetshift", *map(str, args)], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=timeout, env=child_env())  # fmt: skip


def run_dir(root: Path) -> Path:
    runs = sorted((root / ".fleetshift" / "runs").iterdir())
    return runs[-1]


def state(root: Path) -> dict[str, Any]:
    return read_state(run_dir(root))


def results(root: Path) -> dict[str, Any]:
    data = json.loads((run_dir(root) / "results.json").read_text())
    return {**data, "by_name": {s["name"]: s for s in data["services"]}}


# ---- 1 and 2: a broken service is rolled back alone; a phase over the threshold is rolled back whole --------


@pytest.fixture(scope="module")
def threshold_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], Result]:
    """Phase A: two good services and one broken (1/3 under the 50 % threshold). Phase B: one good, two
    broken (2/3 over it)."""
    services = {"a-ok1": False, "a-ok2": False, "a-bad": True, "b-ok": False, "b-bad1": True, "b-bad2": True}
    phases = {n: n[0].upper() for n in services}
    base = tmp_path_factory.mktemp("threshold")
    record = f'echo "$FLEETSHIFT_POINT|$FLEETSHIFT_SERVICE|$FLEETSHIFT_PHASE|$FLEETSHIFT_SERVICE_DIR|$PWD" >> {base}/hooks.log'
    hooks = f"[hooks]\non_failure = {json.dumps(record)}\non_rollback = {json.dumps(record)}\n"
    root = build_fleet(base / "fleet", services, hooks, phases)
    original = tree(root)
    res = invoke("run", root, "--yes", "--jobs", "2", "--threshold", "50%")
    return root, original, res


def test_broken_service_rolled_back_alone_others_stay_migrated(
    threshold_run: tuple[Path, dict[str, str], Result],
) -> None:
    root, original, _ = threshold_run
    r = results(root)
    bad = r["by_name"]["a-bad"]
    assert bad["phase"] == "A" and bad["status"] == "failed"
    assert bad["overall_success"] is False and bad["rolled_back"] is True
    assert bad["failing_tests"] == [BROKEN_TEST_ID], bad
    assert bad["tests"]["before"]["passed"] == 3 and bad["tests"]["after"]["failed"] == 1
    assert any(f["rule"] == "tenacity/custom-wait" for f in bad["findings"]), bad["findings"]
    assert tree(root, "services/a-bad") == original_of(original, "a-bad")
    for name in ("a-ok1", "a-ok2"):
        ok = r["by_name"][name]
        assert ok["status"] == "passed" and ok["overall_success"] is True and not ok["rolled_back"], ok
        assert ok["tests"]["before"]["passed"] == 2 and ok["tests"]["after"]["passed"] == 2
        assert_migrated(root, name)
    install = (run_dir(root) / "logs" / "a-ok1" / "new-install.log").read_text()
    assert "+ tenacity==9." in install, install  # the new env really ran tenacity 9
    assert "+ tenacity==8.2.3" in (run_dir(root) / "logs" / "a-ok1" / "old-install.log").read_text()
    assert BROKEN_TEST_ID in (run_dir(root) / "test-report.md").read_text()


def test_phase_over_threshold_rolled_back_earlier_phase_kept(
    threshold_run: tuple[Path, dict[str, str], Result],
) -> None:
    root, original, res = threshold_run
    assert res.exit_code == 1, res.output
    assert "phase B: 2 of 3 services failed" in res.output
    r = results(root)
    assert r["status"] == "failed" == state(root)["status"]
    for name in ("b-ok", "b-bad1", "b-bad2"):
        svc = r["by_name"][name]
        assert svc["rolled_back"] is True and svc["overall_success"] is False, svc
        assert tree(root, f"services/{name}") == original_of(original, name)
    assert r["by_name"]["b-ok"]["status"] == "rolled-back"
    assert state(root)["services"]["b-ok"]["steps"]["phase-rollback"]["status"] == "done"
    for name in ("a-ok1", "a-ok2"):
        assert_migrated(root, name)
    assert r["summary"]["by_phase"]["A"] == {"total": 3, "passed": 2, "unproven": 0, "failed": 1, "pending": 0}
    assert r["summary"]["by_phase"]["B"]["passed"] == 0
    hooks = [line.split("|") for line in (root.parent / "hooks.log").read_text().splitlines()]
    for point, service, phase, service_dir, cwd in hooks:
        assert phase == service[0].upper(), (point, service, phase)
        assert service_dir == cwd == str(root / "services" / service), (point, service, service_dir, cwd)
    assert sorted((p, s) for p, s, *_ in hooks) == sorted(
        [(p, s) for s in ("a-bad", "b-bad1", "b-bad2") for p in ("on_failure", "on_rollback")]
        + [("on_rollback", "b-ok")]
    )  # b-ok: rolled back with its phase, without failing itself


# ---- 3: killed mid-phase, then resumed (one copy) or rolled back (another) ---------------------------------


def _wait_for(root: Path, ready: Any, proc: subprocess.Popen[bytes], limit: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the run ended before the awaited state"
        try:
            s = state(root)
        except (OSError, ValueError, IndexError, JournalError):
            s = None
        if s is not None and ready(s):
            return s
        time.sleep(0.05)
    raise AssertionError(f"state not reached within {limit} s")


def _wait_orphans_gone(root: Path, limit: float = 60) -> None:
    """The killed run's tool processes (uv, pytest in the fleet's envs) die on their own; wait for them so
    they cannot race the resumed run."""
    needle = str(root).encode()
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        busy = []
        for proc in Path("/proc").iterdir():
            if proc.name.isdigit() and int(proc.name) != os.getpid():
                try:
                    if needle in (proc / "cmdline").read_bytes():
                        busy.append(proc.name)
                except OSError:
                    continue
        if not busy:
            return
        time.sleep(0.1)
    raise AssertionError(f"processes still using {root}: {busy}")


def test_killed_run_resumes_without_redoing_finished_services_and_copy_rolls_back(tmp_path: Path) -> None:
    services = {"k1": False, "k2": False, "k3": False}
    root = build_fleet(tmp_path / "fleet", services)
    original = tree(root)
    cmd = [sys.executable, "-m", "fleetshift", "run", str(root), "--yes", "--jobs", "1"]
    with open(tmp_path / "run.log", "wb") as log:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=child_env(),
                                start_new_session=True)  # fmt: skip
        try:
            first = _wait_for(root, lambda s: s["services"].get("k1", {}).get("status") == "passed", proc)
            during = invoke("status", root, "--json")
            assert during.exit_code == 0, during.output
            live = json.loads(during.stdout)
            assert live["status"] == "running"
            live_status = {s["name"]: s["status"] for s in live["services"]}
            assert live_status["k1"] == "passed" and live_status["k3"] == "pending", live_status
            killed = _wait_for(root, lambda s: s["services"]["k2"]["steps"].get("verify", {}).get("status") == "running",
                               proc)  # fmt: skip
            os.killpg(proc.pid, signal.SIGKILL)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(30)
    _wait_orphans_gone(root)
    assert first["services"]["k1"]["steps"]["verify"]["status"] == "done"
    k1_before = state(root)["services"]["k1"]
    assert killed["services"]["k2"]["status"] == "running"
    assert all(e["state"] == "done" for e in killed["services"]["k2"]["files"])
    assert_migrated(root, "k2")  # cut off after its rewrite, in the middle of its verification
    k3 = killed["services"]["k3"]  # every baseline is taken before anything is rewritten
    assert k3["status"] == "pending" and set(k3["steps"]) == {"baseline"} and not k3["files"], k3
    assert not [
        r for r in killed["rollbacks"] if r["service"] in {"k1", "k2"}
    ]  # no empty rollbacks on the way

    copy = tmp_path / "copy"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns("envs"))
    res = fleetshift("rollback", copy)
    assert res.returncode == 0, res.stdout + res.stderr
    assert tree(copy) == original
    assert state(copy)["status"] == "rolled-back"

    res = fleetshift("resume", root, "--yes")
    assert res.returncode == 0, res.stdout + res.stderr
    after = state(root)
    assert after["status"] == "completed"
    assert {n: s["status"] for n, s in after["services"].items()} == {
        "k1": "passed",
        "k2": "passed",
        "k3": "passed",
    }
    assert after["services"]["k1"]["steps"] == k1_before["steps"]  # finished service: not redone
    assert after["services"]["k1"]["files"] == k1_before["files"]
    first_try = [
        e
        for e in after["services"]["k2"]["files"]
        if e["seq"] in {x["seq"] for x in killed["services"]["k2"]["files"]}
    ]
    redo = [e for e in after["services"]["k2"]["files"] if e not in first_try]
    assert first_try and all(
        e["state"] == "rolled-back" for e in first_try
    )  # put back before it started over
    assert sorted(e["path"] for e in redo) == sorted(e["path"] for e in first_try)
    assert all(e["state"] == "done" for e in redo)
    assert after["services"]["k2"]["steps"]["verify"]["status"] == "done"
    for name in services:
        assert_migrated(root, name)
    r = results(root)
    assert all(s["overall_success"] for s in r["services"]), r["services"]


# ---- 4: hooks from the config and from an entry point -------------------------------------------------------

PLUGIN = """\
CALLS = []


def hook(point, context):
    CALLS.append((point, dict(context)))
"""


def test_hooks_run_at_their_points_and_failures_skip_or_roll_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "hooks.log"
    record = f'echo "$FLEETSHIFT_POINT|$FLEETSHIFT_SERVICE|$FLEETSHIFT_PHASE|$FLEETSHIFT_RUN_ID|$FLEETSHIFT_SERVICE_DIR" >> {log}'
    points = ("before_run", "after_run", "before_phase", "after_phase", "before_recipe", "after_recipe", "build",
              "before_verify", "after_verify", "on_failure", "on_rollback")  # fmt: skip
    config = "[hooks]\n" + "".join(f"{p} = {json.dumps(record)}\n" for p in points)
    config += f'before_service = [{json.dumps(record)}, "test \\"$FLEETSHIFT_SERVICE\\" != h-skip"]\n'
    config += f'after_service = [{json.dumps(record)}, "test \\"$FLEETSHIFT_SERVICE\\" != h-undo"]\n'
    root = build_fleet(tmp_path / "fleet", {"h-ok": False, "h-skip": False, "h-undo": False}, config)
    original = tree(root)

    plugins = tmp_path / "plugins"
    make_fleet(plugins, {
        "campaign_hook_plugin.py": PLUGIN,
        "campaign_hook_plugin-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: campaign-hook-plugin\nVersion: 1.0\n",
        "campaign_hook_plugin-1.0.dist-info/entry_points.txt": "[fleetshift.hooks]\nrecorder = campaign_hook_plugin:hook\n",
    })  # fmt: skip
    monkeypatch.syspath_prepend(str(plugins))
    import campaign_hook_plugin  # type: ignore[import-not-found]

    res = invoke("run", root, "--yes", "--jobs", "2", "--threshold", "90%")
    assert res.exit_code == 1, res.output  # h-undo failed
    run_id = run_dir(root).name
    lines = [line.split("|") for line in log.read_text().splitlines()]
    assert all(len(parts) == 5 for parts in lines), lines
    assert {parts[3] for parts in lines} == {run_id}
    assert lines[0][:3] == ["before_run", "", ""] and lines[-1][:3] == ["after_run", "", ""]
    assert [p[0] for p in lines if not p[1]] == ["before_run", "before_phase", "after_phase", "after_run"], (
        lines
    )
    phase_start, phase_end = lines.index(next(p for p in lines if p[0] == "before_phase")), lines.index(
        next(p for p in lines if p[0] == "after_phase"))  # fmt: skip
    service_lines = [i for i, p in enumerate(lines) if p[1]]
    assert phase_start < min(service_lines) and max(service_lines) < phase_end

    def points_of(service: str) -> list[str]:
        seen = [p for p in lines if p[1] == service]
        assert all(p[2] == "A" and p[4] == str(root / "services" / service) for p in seen), seen
        return [p[0] for p in seen]

    assert points_of("h-ok") == ["before_service", "before_recipe", "after_recipe", "build", "before_verify",
                                 "after_verify", "after_service"]  # fmt: skip
    assert points_of("h-skip") == ["before_service"]
    assert points_of("h-undo") == ["before_service", "before_recipe", "after_recipe", "build", "before_verify",
                                   "after_verify", "after_service", "on_failure", "on_rollback"]  # fmt: skip

    r = results(root)
    assert r["by_name"]["h-ok"]["status"] == "passed"
    assert_migrated(root, "h-ok")
    skip = r["by_name"]["h-skip"]
    assert skip["status"] == "skipped" and "before_service hook failed" in skip["reason"], skip
    assert "rewrite" not in skip["steps"] and "verify" not in skip["steps"], skip["steps"]
    undo = r["by_name"]["h-undo"]
    assert (
        undo["status"] == "failed"
        and undo["rolled_back"] is True
        and "after_service hook failed" in undo["reason"]
    )
    for name in ("h-skip", "h-undo"):
        assert tree(root, f"services/{name}") == original_of(original, name)

    calls = campaign_hook_plugin.CALLS
    seen = [(point, ctx.get("FLEETSHIFT_SERVICE", "")) for point, ctx in calls]
    assert seen[0] == ("before_run", "") and seen[-1] == ("after_run", "")
    assert [p for p, s in seen if s == "h-ok"] == points_of("h-ok")
    assert [p for p, s in seen if s == "h-undo"] == points_of("h-undo")
    ctx = next(c for p, c in calls if p == "build" and c.get("FLEETSHIFT_SERVICE") == "h-ok")
    assert (
        ctx["FLEETSHIFT_POINT"] == "build"
        and ctx["FLEETSHIFT_PHASE"] == "A"
        and ctx["FLEETSHIFT_RUN_ID"] == run_id
    )
    assert ctx["FLEETSHIFT_SERVICE_DIR"] == str(root / "services" / "h-ok")


# ---- 5: phase D stops for approval without a terminal; resume --yes finishes it -----------------------------


def test_phase_d_waits_for_approval_then_resume_yes_finishes(tmp_path: Path) -> None:
    root = build_fleet(
        tmp_path / "fleet", {"edge": False, "core": False}, 'critical = ["core"]\n', {"edge": "A"}
    )
    original = tree(root)
    res = fleetshift("run", root, "--jobs", "2")
    out = res.stdout + res.stderr
    assert "stopped before core" in out and f"fleetshift resume {root} --yes" in out, out
    s = state(root)
    assert s["status"] == "interrupted"
    assert s["services"]["edge"]["status"] == "passed"
    core = s["services"]["core"]  # its baseline ran on the old pins with the others; nothing more
    assert core["status"] == "pending" and set(core["steps"]) == {"baseline"} and not core["files"], core
    assert_migrated(root, "edge")
    assert tree(root, "services/core") == original_of(original, "core")

    res = fleetshift("resume", root, "--yes")
    assert res.returncode == 0, res.stdout + res.stderr
    r = results(root)
    assert r["status"] == "completed"
    assert r["by_name"]["core"]["phase"] == "D" and r["by_name"]["core"]["status"] == "passed"
    assert_migrated(root, "core")


# ---- 6: status --json, --no-verify, and the refusal without a terminal --------------------------------------


def test_no_verify_applies_without_tests_and_needs_yes_without_terminal(tmp_path: Path) -> None:
    root = build_fleet(tmp_path / "fleet", {"nv-ok": False, "nv-bad": True})
    original = tree(root)
    res = invoke("run", root, "--no-verify")
    assert res.exit_code == 2, res.output
    assert "--yes" in res.output
    assert tree(root) == original and not (root / ".fleetshift" / "runs").exists()

    res = invoke("run", root, "--no-verify", "--yes", "--jobs", "2")
    assert res.exit_code == 0, res.output
    status = invoke("status", root, "--json")
    assert status.exit_code == 0, status.output
    r = json.loads(status.stdout)
    assert r["status"] == "completed"
    for svc in r["services"]:
        # Applied without a test is its own state, never "passed" (it used to be reported as passed).
        assert svc["status"] == "not-verified" and svc["verdict"] == "not-verified", svc
        assert svc["verdict_label"] == "applied, not verified" and not svc["overall_success"] and svc["kept"]
        assert "applied, not verified (--no-verify)" in svc["reason"]
        assert svc["tests"] == {"before": None, "after": None}
        assert set(svc["steps"]) == {"rewrite"}
    assert_migrated(root, "nv-ok")
    assert_migrated(root, "nv-bad")  # its 9.x-only failure goes unnoticed: nothing was tested
    assert not (root / ".fleetshift" / "envs").exists()


# ---- 7: health checks -------------------------------------------------------------------------------------


def test_health_check_passes_or_rolls_the_service_back(tmp_path: Path) -> None:
    config = """\
    [services.web]
    health = { start = "python -m http.server {port} --bind 127.0.0.1", url = "http://127.0.0.1:{port}/", timeout = 20 }
    [services.dead]
    health = { start = "python -c 'import time; time.sleep(60)'", command = "python -c 'raise SystemExit(1)'", timeout = 2 }
    """
    root = build_fleet(tmp_path / "fleet", {"web": False, "dead": False}, config)
    original = tree(root)
    res = invoke("run", root, "--yes", "--jobs", "2", "--threshold", "60%")
    assert res.exit_code == 1, res.output
    r = results(root)
    web, dead = r["by_name"]["web"], r["by_name"]["dead"]
    assert (
        web["status"] == "passed"
        and web["health"]["ok"] is True
        and "healthy after" in web["health"]["detail"]
    )
    assert_migrated(root, "web")
    assert dead["status"] == "failed" and dead["rolled_back"] is True, dead
    assert dead["health"]["ok"] is False and "not healthy within 2 s" in dead["reason"], dead
    assert dead["tests"]["after"]["passed"] == 2  # the tests passed; the health check alone failed it
    assert tree(root, "services/dead") == original_of(original, "dead")


def test_fleetshift_failing_on_one_service_rolls_it_back_and_keeps_the_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug of fleetshift itself on one service (here: its verification raises) fails that service alone, its
    files restored; the reason names the exception and a log file holding the whole traceback."""
    import fleetshift.orchestrate as orchestrate

    root = build_fleet(tmp_path / "fleet", {"solo": False})
    original = tree(root)
    real_after = orchestrate.verify.after

    def broken_after(*args: Any, **kwargs: Any) -> Any:
        raise FileNotFoundError(2, "No such file or directory", "/nonexistent/where-it-looked")

    monkeypatch.setattr(orchestrate.verify, "after", broken_after)
    res = invoke("run", root, "--yes")
    monkeypatch.setattr(orchestrate.verify, "after", real_after)
    assert res.exit_code == 1, res.output
    solo = results(root)["by_name"]["solo"]
    assert solo["status"] == "failed" and solo["rolled_back"] is True
    assert "FileNotFoundError" in solo["reason"] and "traceback in " in solo["reason"], solo["reason"]
    log = Path(solo["reason"].rsplit("traceback in ", 1)[1])
    text = log.read_text()
    assert "Traceback (most recent call last)" in text and "broken_after" in text and "where-it-looked" in text
    assert tree(root) == original
