"""Starting and resuming runs: the journal with its plan snapshot, hooks, progress, Ctrl-C, reports."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from fleetshift import pinsahead
from fleetshift.gitops import GitError, GitRecord
from fleetshift.hooks import Hooks
from fleetshift.journal import FleetLock, Journal, JournalError
from fleetshift.model import Phase, Plan, RunStatus, ServicePlan, ServiceStatus, to_jsonable
from fleetshift.orchestrate import Campaign, RunOptions, RunOutcome
from fleetshift.pipeline import Analysis, analyse
from fleetshift.progress import RunProgress

if TYPE_CHECKING:
    from fleetshift.gitrun import GitStart
from fleetshift.report.results import write_run_reports
from fleetshift.rewrite import worker_processes

RESUMABLE = {RunStatus.RUNNING, RunStatus.INTERRUPTED}


@dataclass(frozen=True)
class Finished:
    journal: Journal
    outcome: RunOutcome
    reports: list[Path]
    branches: tuple[str, ...] = ()  # git runs: the branches made
    git_problems: tuple[str, ...] = ()


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
             resumed: bool = False, git: GitRecord | None = None) -> Finished:
    interrupted = {"count": 0}
    previous = signal.getsignal(signal.SIGINT)

    def on_sigint(signum: int, frame: object) -> None:
        interrupted["count"] += 1
        if interrupted["count"] == 1:
            raise KeyboardInterrupt
        console.print("still stopping safely; the run state is already saved — resume or roll back afterwards")

    signal.signal(signal.SIGINT, on_sigint)
    jobs = max(1, options.jobs or a.config.jobs or os.cpu_count() or 1)
    rewrites = sum(1 for sp in options.selection.services_of(a.plan) if options.selection.chain(sp))
    try:
        with worker_processes(jobs, rewrites), RunProgress(console, journal.state) as progress:
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
        pinsahead.stop()  # the pin questions asked during the scan: every rewrite has its answers by now
    if git is not None and git.mode == "monorepo":  # what to type next names the user's fleet, not the worktree
        outcome.message = outcome.message.replace(str(a.fleet.root), str(journal.path.parents[2]))
    reports = write_run_reports(journal.path)
    if git is None or outcome.status in (RunStatus.INTERRUPTED, RunStatus.AWAITING_APPROVAL):
        return Finished(journal, outcome, reports)
    from fleetshift.gitrun import finish

    try:
        branches = finish(git, journal.path, journal.run_id, a.config, lambda line: console.print(line))
    except GitError as exc:
        return Finished(journal, outcome, reports, git_problems=(f"the branches could not be made: {exc}",))
    return Finished(journal, outcome, reports, tuple(branches))


def _in_git(a: Analysis, journal: Journal, git: GitStart | None) -> tuple[Analysis, GitRecord | None]:
    """A git run's analysis with its fleet root where the campaign rewrites (the run's worktree, or the
    multi-repo workspace); the journal writes fleet files there, its run folder stays in the user's fleet."""
    from fleetshift.gitrun import prepare_monorepo, prepare_multirepo

    if git is not None:
        record, root = prepare_monorepo(git, journal.path, journal.run_id, a.config.git.branch_per)
    elif a.config.repos:
        record, root = prepare_multirepo(a, journal.path), Path(a.fleet.root)
    else:
        return a, None
    journal.fleet_root = root.resolve()
    return at_root(a, root), record


def at_root(a: Analysis, root: Path) -> Analysis:
    """The same analysis over a copy of the fleet at `root` (services and files are root-relative)."""
    where = str(root.resolve())
    return Analysis(a.config, replace(a.fleet, root=where), replace(a.inventory, root=where), replace(a.plan, root=where))


def start_run(a: Analysis, options: RunOptions, console: Console, approve: Callable[[str], bool] | None = None,
              git: GitStart | None = None) -> Finished:
    """A new run over the analysed fleet (with `git`, or for a multi-repo fleet: on branches, see gitrun)."""
    meta = {**options.to_meta(), "command": "run", "plan": plan_snapshot(a.plan), "pid": os.getpid()}
    root = Path(a.config.root) if git is not None or a.config.repos else Path(a.fleet.root)
    if git is not None or a.config.repos:
        meta["git"] = "monorepo" if git is not None else "multi-repo"
    with _fleet_lock(root, "run", console) as lock:
        journal = Journal.start(root, meta)
        lock.set_run(journal.run_id)
        try:
            a, record = _in_git(a, journal, git)
        except GitError as exc:
            journal.set_status(RunStatus.FAILED)
            raise JournalError(f"run {journal.run_id} could not start in git, nothing was changed: {exc}") from None
        return _execute(a, options, journal, console, approve, git=record)


def _fleet_lock(root: Path, command: str, console: Console, run_id: str = "") -> FleetLock:
    """The fleet's lock for a command that writes (raises FleetLocked naming the holder); says so on a takeover."""
    lock = FleetLock.acquire(root, command, run_id)
    if lock.message:
        console.print(lock.message)
    return lock


def resume_run(root: Path, console: Console, run_id: str | None = None, approve: Callable[[str], bool] | None = None,
               yes: bool | None = None, jobs: int | None = None, keep_unverified: bool | None = None,
               where: dict[str, Any] | None = None) -> Finished:
    """Continue an interrupted run from its last completed step; finished services are never redone. `where`
    overrides the run's executor, ray_address or shared_fs (a run may resume on another executor)."""
    journal = Journal.open(root, run_id)
    with _fleet_lock(root, "resume", console, journal.run_id):
        return _resume(journal, root, console, approve, yes, jobs, keep_unverified, where or {})


def _resume(journal: Journal, root: Path, console: Console, approve: Callable[[str], bool] | None, yes: bool | None,
            jobs: int | None, keep_unverified: bool | None, where: dict[str, Any]) -> Finished:
    state = journal.state()
    if state["status"] not in RESUMABLE:
        raise JournalError(f"run {journal.run_id} is {state['status']}; there is nothing to resume (start a new run instead)")
    record = GitRecord.load(journal.path)
    work = None
    if record is not None:  # a git run goes on where it rewrote: its worktree, or the multi-repo workspace
        from fleetshift.workspace import workspace_root

        first = record.repos[0]
        work = Path(first.work) / first.prefix if record.mode == "monorepo" else workspace_root(root)
        if not work.is_dir():
            raise JournalError(f"run {journal.run_id}'s worktree {work} is gone; roll it back with: "
                               f"fleetshift rollback {root} --run {journal.run_id}")
        journal.fleet_root = work.resolve()
    for name, svc in state["services"].items():
        if ServiceStatus.of(svc.get("status")) is ServiceStatus.RUNNING:
            # Cut off mid-way: put its files back first, then it starts over cleanly.
            journal.rollback(service=name)
            journal.set_service_status(name, ServiceStatus.PENDING)
    journal.recover()
    journal.set_status(RunStatus.RUNNING)
    fresh = analyse(root)
    if work is not None:
        fresh = at_root(fresh, work)
    plan = plan_from_snapshot(fresh.inventory.root, state["meta"]["plan"])
    options = RunOptions.from_meta(state["meta"])
    if yes is not None:
        options = replace(options, yes=yes or options.yes)
    if jobs:
        options = replace(options, jobs=jobs)
    if keep_unverified:
        options = replace(options, keep_unverified=True)
    if where:
        options = replace(options, **where)
    a = Analysis(fresh.config, fresh.fleet, fresh.inventory, plan)
    return _execute(a, options, journal, console, approve, resumed=True, git=record)
