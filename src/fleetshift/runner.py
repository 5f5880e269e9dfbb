"""Starting and resuming runs: the journal with its plan snapshot, hooks, progress, Ctrl-C, reports."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rich.console import Console

from fleetshift.hooks import Hooks
from fleetshift.journal import FleetLock, Journal, JournalError
from fleetshift.model import Phase, Plan, RunStatus, ServicePlan, ServiceStatus, to_jsonable
from fleetshift.orchestrate import Campaign, RunOptions, RunOutcome
from fleetshift.pipeline import Analysis, analyse
from fleetshift.progress import RunProgress
from fleetshift.report.results import write_run_reports

RESUMABLE = {RunStatus.RUNNING, RunStatus.INTERRUPTED}


@dataclass(frozen=True)
class Finished:
    journal: Journal
    outcome: RunOutcome
    reports: list[Path]


def plan_snapshot(plan: Plan) -> dict[str, Any]:
    return {sp.service: to_jsonable(sp) for sp in plan.services}


def plan_from_snapshot(root: str, snap: dict[str, Any]) -> Plan:
    services = []
    for data in snap.values():
        d = dict(data)
        d["phase"] = Phase(d["phase"])
        for key in ("recipes", "reasons", "depends_on"):
            d[key] = tuple(d.get(key, ()))
        services.append(ServicePlan(**d))
    return Plan(root, tuple(services))


def _hooks(a: Analysis, journal: Journal) -> Hooks:
    env = {"FLEETSHIFT_RUN_ID": journal.run_id, "FLEETSHIFT_FLEET_ROOT": a.fleet.root, "FLEETSHIFT_RUN_DIR": str(journal.path)}
    return Hooks(a.config.hooks, journal.path / "logs" / "hooks", env, timeout=a.config.step_timeout)


def _execute(a: Analysis, options: RunOptions, journal: Journal, console: Console, approve: Callable[[str], bool] | None,
             resumed: bool = False) -> Finished:
    interrupted = {"count": 0}
    previous = signal.getsignal(signal.SIGINT)

    def on_sigint(signum: int, frame: object) -> None:
        interrupted["count"] += 1
        if interrupted["count"] == 1:
            raise KeyboardInterrupt
        console.print("still stopping safely; the run state is already saved — resume or roll back afterwards")

    signal.signal(signal.SIGINT, on_sigint)
    try:
        with RunProgress(console, journal.state) as progress:
            campaign = Campaign(a, options, journal, _hooks(a, journal), on_event=progress, approve=approve, resumed=resumed)
            try:
                outcome = campaign.run()
            except KeyboardInterrupt:
                journal.set_status(RunStatus.INTERRUPTED)
                outcome = RunOutcome(journal.run_id, RunStatus.INTERRUPTED,
                                     f"interrupted; the state is saved. Continue with: fleetshift resume {a.fleet.root} "
                                     f"— or undo with: fleetshift rollback {a.fleet.root} --run {journal.run_id}")
    finally:
        signal.signal(signal.SIGINT, previous)
    reports = write_run_reports(journal.path)
    return Finished(journal, outcome, reports)


def start_run(a: Analysis, options: RunOptions, console: Console, approve: Callable[[str], bool] | None = None) -> Finished:
    """A new run over the analysed fleet."""
    meta = {**options.to_meta(), "command": "run", "plan": plan_snapshot(a.plan), "pid": os.getpid()}
    with _fleet_lock(Path(a.fleet.root), "run", console) as lock:
        journal = Journal.start(Path(a.fleet.root), meta)
        lock.set_run(journal.run_id)
        return _execute(a, options, journal, console, approve)


def _fleet_lock(root: Path, command: str, console: Console, run_id: str = "") -> FleetLock:
    """The fleet's lock for a command that writes (raises FleetLocked naming the holder); says so on a takeover."""
    lock = FleetLock.acquire(root, command, run_id)
    if lock.message:
        console.print(lock.message)
    return lock


def resume_run(root: Path, console: Console, run_id: str | None = None, approve: Callable[[str], bool] | None = None,
               yes: bool | None = None, jobs: int | None = None, keep_unverified: bool | None = None) -> Finished:
    """Continue an interrupted run from its last completed step; finished services are never redone."""
    journal = Journal.open(root, run_id)
    with _fleet_lock(root, "resume", console, journal.run_id):
        return _resume(journal, root, console, approve, yes, jobs, keep_unverified)


def _resume(journal: Journal, root: Path, console: Console, approve: Callable[[str], bool] | None, yes: bool | None,
            jobs: int | None, keep_unverified: bool | None) -> Finished:
    state = journal.state()
    if state["status"] not in RESUMABLE:
        raise JournalError(f"run {journal.run_id} is {state['status']}; there is nothing to resume (start a new run instead)")
    for name, svc in state["services"].items():
        if ServiceStatus.of(svc.get("status")) is ServiceStatus.RUNNING:
            # Cut off mid-way: put its files back first, then it starts over cleanly.
            journal.rollback(service=name)
            journal.set_service_status(name, ServiceStatus.PENDING)
    journal.recover()
    journal.set_status(RunStatus.RUNNING)
    fresh = analyse(root)
    plan = plan_from_snapshot(fresh.inventory.root, state["meta"]["plan"])
    options = RunOptions.from_meta(state["meta"])
    if yes is not None:
        options = replace(options, yes=yes or options.yes)
    if jobs:
        options = replace(options, jobs=jobs)
    if keep_unverified:
        options = replace(options, keep_unverified=True)
    a = Analysis(fresh.config, fresh.fleet, fresh.inventory, plan)
    return _execute(a, options, journal, console, approve, resumed=True)
