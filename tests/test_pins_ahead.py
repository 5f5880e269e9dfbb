"""The pin questions a run asks while it scans (fleetshift.pinsahead): the chains the manifests give are the plan's,
every question the rewrites then ask is answered (uv does not run for them), the answers change no ChangeSet,
and the asking process ends with the run."""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from pathlib import Path

import pytest

from fleetshift import pinsahead, rewrite
from fleetshift.config import load_config
from fleetshift.discover import discover
from fleetshift.model import ProjectKind, Selection
from fleetshift.pipeline import analyse
from fleetshift.resolve import CACHE_DIR, Resolver
from fleetshift.scancache import ScanCache


def _copy(generated: Path, tmp_path: Path) -> Path:
    fleet = tmp_path / "fleet"
    shutil.copytree(generated, fleet, ignore=shutil.ignore_patterns(".fleetshift"))
    return fleet


def _wait_for_child() -> None:
    """Wait for the asking process to end by itself (its questions answered), as a run's rewrites would."""
    assert pinsahead._child is not None
    pid, _ = pinsahead._child
    _, status = os.waitpid(pid, 0)
    pinsahead._child = None
    assert os.waitstatus_to_exitcode(status) == 0


def test_manifest_chains_are_the_plans(generated: Path) -> None:
    a = analyse(generated)
    sel = Selection()
    planned = {sp.service: sel.chain(sp) for sp in sel.services_of(a.plan) if sel.chain(sp)}
    ahead = {service.name: chain for service, chain in pinsahead.chains(a.fleet, a.config, sel)}
    assert planned and ahead == planned
    one = next(iter(planned))
    assert [s.name for s, _ in pinsahead.chains(a.fleet, a.config, Selection(services=(one,)))] == [one]
    recipe = planned[one][0]
    assert all(chain == (recipe,) for _, chain in pinsahead.chains(a.fleet, a.config, Selection(recipes=(recipe,))))


@pytest.mark.slow
def test_questions_asked_during_the_scan_answer_the_rewrites(generated: Path, tmp_path: Path) -> None:
    fleet = _copy(generated, tmp_path)
    a = analyse(fleet, pins_ahead=Selection())
    _wait_for_child()
    assert any((fleet / CACHE_DIR).glob("*.json"))
    sel = Selection()
    work = [(a.fleet.service(sp.service), sel.chain(sp)) for sp in sel.services_of(a.plan) if sel.chain(sp)]
    resolver = Resolver(fleet)
    ahead = [rewrite.rewrite_service(fleet, svc, chain, a.config, resolver=resolver) for svc, chain in work]
    assert resolver.calls == 0  # every question was answered while the fleet was scanned
    plain = _copy(generated, tmp_path / "plain")
    b = analyse(plain)
    alone = [rewrite.rewrite_service(plain, b.fleet.service(svc.name), chain, b.config) for svc, chain in work]
    assert ahead == alone
    assert any(c.file.endswith((".txt", ".toml")) for cs in ahead for c in cs.changes)


def test_the_asking_process_ends_with_the_run(generated: Path, tmp_path: Path) -> None:
    fleet = _copy(generated, tmp_path)
    config = load_config(fleet)
    found = discover(fleet, config, ScanCache(fleet, enabled=False))
    os.environ["FLEETSHIFT_OFFLINE"] = "1"  # nothing asked of the index: uv answers from its cache or not at all
    try:
        assert pinsahead.start(fleet, found, config)
    finally:
        del os.environ["FLEETSHIFT_OFFLINE"]
    pid, _ = pinsahead._child
    assert not pinsahead.start(fleet, found, config)  # one at a time
    pinsahead.stop()
    assert pinsahead._child is None
    with pytest.raises(ChildProcessError):  # ended and reaped
        os.waitpid(pid, os.WNOHANG)
    pinsahead.stop()  # nothing to stop: no error
    assert not pinsahead.start(fleet, found, config, Selection(services=("no-such-service",)))
    assert pinsahead._child is None


def test_the_runs_own_asking_skips_what_was_asked_during_the_scan(generated: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The run's own asking ahead (rewrite.rewrite_ahead) is for the services the scan's asking process was not given
    as the run asks them: another chain, another fleet, or a library (whose questions hang on the scan's sites)."""
    from dataclasses import replace

    fleet = _copy(generated, tmp_path)
    config = load_config(fleet)
    found = discover(fleet, config, ScanCache(fleet, enabled=False))
    work = pinsahead.chains(found, config, Selection())
    with monkeypatch.context() as env:
        env.setenv("FLEETSHIFT_OFFLINE", "1")
        assert pinsahead.start(fleet, found, config)
    pinsahead.stop()
    service, chain = work[0]
    assert all(pinsahead.asked(fleet, s, c) for s, c in work if not s.project.is_library)
    assert not pinsahead.asked(fleet, service, chain[:-1] or ("another",))
    assert not pinsahead.asked(tmp_path / "elsewhere", service, chain)
    library = replace(service, project=replace(service.project, kind=ProjectKind.LIBRARY))
    assert not pinsahead.asked(fleet, library, chain)


def test_not_started_beside_another_thread(generated: Path) -> None:
    config = load_config(generated)
    found = discover(generated, config, ScanCache(generated, enabled=False))
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert not pinsahead.start(generated, found, config)  # a fork now could inherit a lock another thread holds
    finally:
        release.set()
        other.join()
    assert pinsahead._child is None


def _children() -> set[int]:
    """This process's child processes, running or not yet reaped (Linux /proc)."""
    return {int(pid) for task in Path(f"/proc/{os.getpid()}/task").iterdir()
            for pid in (task / "children").read_text().split()}  # fmt: skip


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads /proc")
@pytest.mark.parametrize("args", [["--dry-run"], ["--no-verify"]], ids=["dry-run", "refused"])
def test_a_run_command_that_returns_leaves_no_asking_process(generated: Path, tmp_path: Path, args: list[str]) -> None:
    """The command ends the asking process however it ends, here a dry run (which returns) and a run refused for
    want of --yes without a terminal: none is left running or unreaped for the caller to meet (a test's
    os.wait() met one)."""
    from typer.testing import CliRunner

    from fleetshift.cli import app

    fleet = _copy(generated, tmp_path)
    before = _children()
    os.environ["FLEETSHIFT_OFFLINE"] = "1"
    try:
        res = CliRunner().invoke(app, ["run", str(fleet), *args])
    finally:
        del os.environ["FLEETSHIFT_OFFLINE"]
    assert res.exit_code == (0 if args == ["--dry-run"] else 2), res.output
    assert pinsahead._child is None
    assert _children() <= before


def test_a_run_ended_while_uv_answers_leaves_no_temporary_folder(generated: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The asking process is ended (SIGTERM) while uv runs: nothing the resolver made is left in the temporary
    folder (uv reads the question on its standard input; no folder or file is made for it)."""
    import signal
    import tempfile
    import time

    from fleetshift import resolve

    fleet = _copy(generated, tmp_path)
    config = load_config(fleet)
    found = discover(fleet, config, ScanCache(fleet, enabled=False))
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    asking = tmp_path / "asking"
    uv = tmp_path / "uv"  # answers slowly, saying where it runs
    uv.write_text("#!/bin/sh\n"
                  'case "$*" in *--version*) echo "uv 0.0.0"; exit 0;; *--verbose*) exit 0;; esac\n'
                  f'echo $$ >> "{asking}"; cat > /dev/null; sleep 30\n')
    uv.chmod(0o755)
    monkeypatch.setattr(resolve, "uv_bin", lambda: str(uv))
    monkeypatch.setattr(resolve, "uv_version", lambda folder=None: "uv 0.0.0")
    monkeypatch.setattr(resolve, "_interpreters", {})
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    assert pinsahead.start(fleet, found, config)
    try:
        deadline = time.monotonic() + 30
        while not (asking.exists() and asking.read_text().strip()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert asking.exists(), "uv was never asked"
    finally:
        pinsahead.stop()
        for pid in asking.read_text().split() if asking.exists() else ():
            with contextlib.suppress(OSError):
                os.kill(int(pid), signal.SIGKILL)
    assert list(scratch.iterdir()) == []


def test_the_packages_named_ahead_are_the_targets_and_the_other_pins(generated: Path) -> None:
    from fleetshift.recipes import get

    config = load_config(generated)
    found = discover(generated, config, ScanCache(generated, enabled=False))
    work = pinsahead.chains(found, config, Selection())
    targets_named, others = rewrite._named_ahead(work, config)
    named = [*targets_named, *others]
    assert len(named) == len(set(named)) and others
    recipes = {get(rid) for _, chain in work for rid in chain}
    targets = config.target_specs()
    for recipe in recipes:  # each at its target; what it moves from is not named
        assert f"{recipe.package}{targets.get(recipe.package, recipe.migrates_to)}" in targets_named
        assert not any(n.startswith(f"{recipe.replaces}=") for n in named) if recipe.replaces else True
    moved = {recipe.package for recipe in recipes} | {recipe.replaces for recipe in recipes}
    pins: dict[str, set[str]] = {}
    for service, _ in work:
        for p in service.pins:
            if not p.path and p.package not in moved:
                pins.setdefault(p.package, set()).add(p.spec)
    assert pins
    for package, specs in pins.items():  # at the pin where every service pins it alike, else by name alone
        assert (f"{package}{next(iter(specs))}" if len(specs) == 1 else package) in named


@pytest.mark.slow
def test_the_index_pages_are_fetched_by_one_online_run_and_the_questions_asked_offline(
        generated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Asking ahead first fetches the pages of every package the questions will name with one uv run online
    (`Resolver.fetch`): fewer questions are then asked online, and every answer is the one they get without it."""
    from fleetshift import resolve

    commands: list[tuple[list[str], str]] = []
    real = resolve.run_captured

    def recorded(cmd: list[str], *args: object, **kwargs: object) -> object:
        if "compile" in cmd and "--verbose" not in cmd:
            commands.append((list(cmd), str(kwargs.get("input") or "")))
        return real(cmd, *args, **kwargs)  # type: ignore[arg-type]

    def asked(fleet: Path) -> tuple[list[str], dict[str, str]]:
        commands.clear()
        monkeypatch.setattr(resolve._Fetched, "memory", {})
        config = load_config(fleet)
        found = discover(fleet, config, ScanCache(fleet, enabled=False))
        rewrite._ask_ahead(fleet, pinsahead.chains(found, config, Selection()), config, threading.Event())
        online = [text for cmd, text in commands if "--offline" not in cmd]
        return online, {p.name: p.read_text() for p in (fleet / CACHE_DIR).glob("*.json")}

    monkeypatch.setattr(resolve, "run_captured", recorded)
    online, answers = asked(_copy(generated, tmp_path / "fetched"))
    config = load_config(generated)
    work = pinsahead.chains(discover(generated, config, ScanCache(generated, enabled=False)), config, Selection())
    targets, others = rewrite._named_ahead(work, config)
    assert online[0] == "".join(f"{r}\n" for r in sorted([*targets, *others]))  # the first run
    monkeypatch.setattr(resolve.Resolver, "fetch", lambda self, requirements, python: None)
    plain_online, plain = asked(_copy(generated, tmp_path / "plain"))
    assert len(online) < len(plain_online)
    assert answers and answers == plain  # (the first run's own answer is not kept: nobody asks that question)


def test_when_the_packages_named_ahead_do_not_resolve_together_the_targets_and_the_rest_are_fetched_apart(
        generated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A pin that holds a target back (a plugin needing the old pytest) leaves the union without a solution: then the
    targets are fetched on their own, and the other packages by name alone (each at its newest release)."""
    from fleetshift import resolve

    fetched: list[list[str]] = []

    def fetch(self: Resolver, requirements: list[str], python: str) -> bool:
        fetched.append(list(requirements))
        return len(fetched) > 1  # the first (all together) has no solution

    monkeypatch.setattr(resolve.Resolver, "fetch", fetch)
    monkeypatch.setattr(rewrite, "_floor", lambda *args: None)  # no question asked after the fetches
    monkeypatch.setattr(rewrite, "_warm_settle", lambda *args: None)
    config = load_config(generated)
    work = pinsahead.chains(discover(generated, config, ScanCache(generated, enabled=False)), config, Selection())
    targets, others = rewrite._named_ahead(work, config)
    rewrite._ask_ahead(generated, work, config, threading.Event())
    assert fetched[0] == [*targets, *others]
    assert sorted(fetched[1:]) == sorted([targets, [rewrite._by_name(r) for r in others]])
    by_name = next(f for f in fetched[1:] if f != targets)
    assert any("=" in r or "<" in r for r in others) and not any("=" in r or "<" in r for r in by_name)
    fetched.clear()
    monkeypatch.setattr(resolve.Resolver, "fetch", lambda self, requirements, python: fetched.append(requirements))
    rewrite._ask_ahead(generated, work, config, threading.Event())  # None: uv not asked, nothing more to fetch
    assert len(fetched) == 1
