"""Orchestration: phases A -> D, batches run concurrently, verification, thresholds, hooks, checkpoints, resume.

First, every selected service's tests run on its old pins (the baselines, cached), before anything is
rewritten: a shared library migrated in phase A must not change what a later service's baseline installs.
Then per service: before-service hook -> rewrite through the journal -> build hook -> tests on the new
pins (against the baseline) -> health check -> after-service hook.
A service that fails any of these is rolled back alone.
A baseline that could not run (usage error, import error in conftest, no tests, install failure, timeout ...)
proves nothing: the service is "unverifiable" and its migration is not applied, unless `--keep-unverified`
(or config `keep_unverified`) keeps it, labelled "kept, unverified"; an install failure of the baseline never
gets a rewrite. When a phase's failures pass the threshold,
the phase is rolled back and the run stops; earlier phases stay. Every step is recorded in the run's
state as it completes, so `resume` continues where a crash or Ctrl-C left off.
"""

from __future__ import annotations

import json
import sys
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fleetshift.config import HOOK_POINTS, FleetConfig
from fleetshift.executors import Executor, make_executor
from fleetshift.fsutil import replace_file
from fleetshift.hooks import HookResult, Hooks
from fleetshift.journal import Journal
from fleetshift.manifests import read_manifest
from fleetshift.model import (
    ChangeSet,
    Phase,
    RunState,
    RunStatus,
    Selection,
    Service,
    ServicePlan,
    ServiceStatus,
    StepStatus,
    TestRun,
    Verdict,
    VerdictState,
    to_jsonable,
)
from fleetshift.pipeline import Analysis
from fleetshift.rewrite import rewrite_ahead, rewrite_service

if TYPE_CHECKING:
    from fleetshift import verify

Event = Callable[..., None]


def __getattr__(name: str) -> Any:
    """`verify`, imported on first use: a run that verifies nothing (--no-verify) never loads it."""
    if name == "verify":
        from fleetshift import verify

        return verify
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class RunOptions:
    """What a `run` or `resume` was asked to do."""

    phases: tuple[Phase, ...] = tuple(Phase)
    services: tuple[str, ...] = ()
    recipes: tuple[str, ...] = ()
    jobs: int = 0
    threshold: float | None = None
    yes: bool = False
    verify: bool = True
    todo_comments: bool = False
    interactive: bool = False
    keep_unverified: bool = False
    executor: str = ""  # "local" / "ray"; "" = the config's [run] executor, else local
    ray_address: str = ""  # "" = the config's, else a local cluster
    shared_fs: bool | None = None  # None = the config's
    push: bool = False  # a git run's branches are pushed when it finishes (a resumed run's too)

    @property
    def selection(self) -> Selection:
        return Selection(self.phases, self.services, self.recipes)

    def to_meta(self) -> dict[str, Any]:
        return {
            "phases": [p.value for p in self.phases], "services": list(self.services), "recipes": list(self.recipes),
            "jobs": self.jobs, "threshold": self.threshold, "yes": self.yes, "verify": self.verify,
            "todo_comments": self.todo_comments, "keep_unverified": self.keep_unverified,
            "executor": self.executor, "ray_address": self.ray_address, "shared_fs": self.shared_fs,
            "push": self.push,
        }

    @classmethod
    def from_meta(cls, meta: dict[str, Any], **override: Any) -> RunOptions:
        base = cls(tuple(Phase(p) for p in meta.get("phases", [p.value for p in Phase])), tuple(meta.get("services", ())),
                   tuple(meta.get("recipes", ())), meta.get("jobs", 0), meta.get("threshold"), meta.get("yes", False),
                   meta.get("verify", True), meta.get("todo_comments", False),
                   keep_unverified=meta.get("keep_unverified", False), executor=meta.get("executor", ""),
                   ray_address=meta.get("ray_address", ""), shared_fs=meta.get("shared_fs"),
                   push=meta.get("push", False))
        return cls(**{**base.__dict__, **override})


@dataclass
class RunOutcome:
    """How a run ended: its status and one line that says why."""

    run_id: str
    status: RunStatus  # completed / failed / interrupted / awaiting-approval
    message: str
    verdicts: dict[str, Verdict] = field(default_factory=dict)


class Campaign:
    """Carries out one run over the planned services, recording everything in the journal."""

    def __init__(self, analysis: Analysis, options: RunOptions, journal: Journal, hooks: Hooks, on_event: Event | None = None,
                 approve: Callable[[str], bool] | None = None, resumed: bool = False,
                 executor: Executor | None = None) -> None:
        self.analysis = analysis
        self.resumed = resumed
        self.options = options
        self.journal = journal
        self.hooks = hooks
        self.config: FleetConfig = analysis.config
        self.root = Path(analysis.fleet.root)
        self.run_dir = journal.path
        self.emit = on_event or (lambda *a, **k: None)
        self.approve = approve
        self.threshold = options.threshold if options.threshold is not None else self.config.failure_threshold
        shared_fs = self.config.shared_filesystem if options.shared_fs is None else options.shared_fs
        chosen = (options.executor or self.config.executor or "local") if options.verify else "local"  # no step to send
        self.executor: Executor = executor or make_executor(chosen,
                                                            address=options.ray_address or self.config.ray_address,
                                                            shared_fs=shared_fs)
        self.jobs = max(1, self.executor.width(options.jobs or self.config.jobs))  # 0: the executor's default
        self._lock = threading.Lock()
        self._services: dict[str, Service] = {}
        for service in analysis.fleet.services:  # the first of a name, as Fleet.service finds it
            self._services.setdefault(service.name, service)
        self.baselines: dict[str, TestRun] = {}
        self._load_baselines()

    # ---- plan selection -------------------------------------------------------------------------

    def selected(self) -> dict[Phase, list[ServicePlan]]:
        return self.options.selection.by_phase(self.analysis.plan)

    def chain(self, sp: ServicePlan) -> tuple[str, ...]:
        return self.options.selection.chain(sp)

    def service(self, name: str) -> Service:
        """The fleet's service of this name (`Fleet.service`, looked up in a table: it is asked for every service)."""
        return self._services[name]

    # ---- the run --------------------------------------------------------------------------------

    def run(self) -> RunOutcome:
        try:
            return self._run()
        except BaseException:  # Ctrl-C: the steps running elsewhere are cancelled too
            self.executor.cancel()
            raise
        finally:
            self.executor.close()

    def _pooled(self, step: Callable[[ServicePlan], Any], services: list[ServicePlan]) -> list[Any]:
        """`step` over `services`, `self.jobs` at a time; on Ctrl-C the executor's steps are cancelled before
        the pool waits for its threads."""
        with ThreadPoolExecutor(max_workers=self.jobs) as pool:
            try:
                return list(pool.map(step, services))
            except BaseException:
                self.executor.cancel()
                raise

    def _run(self) -> RunOutcome:
        done = {n for n, s in self.journal.service_statuses().items() if ServiceStatus.of(s).done}
        env = {"RUN_ID": self.journal.run_id, "FLEET_ROOT": str(self.root), "RUN_DIR": str(self.run_dir)}
        if not self.resumed:
            res = self.hooks.run("before_run", cwd=self.root, **{k.lower(): v for k, v in env.items()})
            if not res.ok:
                self.journal.set_status(RunStatus.FAILED)
                return RunOutcome(self.journal.run_id, RunStatus.FAILED, f"before_run hook failed, nothing changed: {res.detail}")
        verdicts: dict[str, Verdict] = {}
        if self.options.verify:
            self._baselines([sp for group in self.selected().values() for sp in group
                             if sp.service not in done and self.chain(sp) and sp.service not in self.baselines])
        else:
            self._rewrite_ahead(done)
        for phase, services in self.selected().items():
            todo = [s for s in services if s.service not in done]
            if not todo:
                continue
            self.emit("phase", phase=phase.value, total=len(services), done=len(services) - len(todo))
            res = self.hooks.run("before_phase", cwd=self.root, run_id=self.journal.run_id, phase=phase.value)
            if not res.ok:
                for sp in todo:
                    self._skip(sp, f"before_phase hook failed: {res.detail}")
                continue
            outcome = self._run_phase(phase, services, todo, verdicts)
            if outcome is not None:
                return outcome
            self.hooks.run("after_phase", cwd=self.root, run_id=self.journal.run_id, phase=phase.value)
        self.journal.set_status(RunStatus.COMPLETED)
        self.hooks.run("after_run", cwd=self.root, run_id=self.journal.run_id, status=RunStatus.COMPLETED)
        return RunOutcome(self.journal.run_id, RunStatus.COMPLETED, closing_line(verdicts), verdicts)

    def _rewrite_ahead(self, done: set[str]) -> None:
        """Send every rewrite this run will do to the rewrite workers at once, in the order the phases ask for
        them, so the workers compute while the journal writes. Only where nothing can change a service's files
        between now and its turn: no hook is configured, and no other service's folder is inside its own or holds
        it (every other write stays inside another service's folder)."""
        if any(self.hooks.has(point) for point in HOOK_POINTS):
            return
        fleet = self.analysis.fleet
        paths = {s.path.strip("/") for s in fleet.services}
        holders = {"/".join(parts[:i]) for parts in (p.split("/") for p in paths if p) for i in range(1, len(parts))}
        if "" in paths and len(paths) > 1:  # a service at the fleet's root holds every other
            return

        def alone(path: str) -> bool:
            path = path.strip("/")
            parts = path.split("/")
            return path not in holders and not any("/".join(parts[:i]) in paths for i in range(1, len(parts)))

        work = []
        for services in self.selected().values():
            for sp in sorted((s for s in services if s.service not in done), key=lambda s: s.batch):
                service = self.service(sp.service)
                if self.chain(sp) and alone(service.path):
                    work.append((service, self.chain(sp)))
        rewrite_ahead(self.root, work, self.config, self.options.todo_comments)

    def _run_phase(self, phase: Phase, services: list[ServicePlan], todo: list[ServicePlan], verdicts: dict[str, Verdict]) -> RunOutcome | None:
        batches: dict[int, list[ServicePlan]] = {}
        for sp in todo:
            batches.setdefault(sp.batch, []).append(sp)
        failed_before = sum(1 for s in services if self._status(s.service).broke)
        failed_here = 0  # this run's failures in the phase, batch by batch (each service is in one batch)
        for _, batch in sorted(batches.items()):
            if phase is Phase.D:
                for sp in batch:
                    if not self.options.yes:
                        if self.approve is None:
                            self.journal.set_status(RunStatus.INTERRUPTED)
                            return RunOutcome(self.journal.run_id, RunStatus.AWAITING_APPROVAL,
                                              f"stopped before {sp.service} (phase D needs approval and there is no terminal); "
                                              f"continue with: fleetshift resume {self.root} --yes")
                        if not self.approve(sp.service):
                            self.journal.set_status(RunStatus.INTERRUPTED)
                            return RunOutcome(self.journal.run_id, RunStatus.AWAITING_APPROVAL,
                                              f"stopped before {sp.service} at your request; continue with: fleetshift resume {self.root}")
                    verdicts[sp.service] = self.process(sp)
            else:
                for sp, verdict in zip(batch, self._pooled(self.process, batch), strict=True):
                    verdicts[sp.service] = verdict
            failed_here += sum(1 for sp in batch if verdicts[sp.service].outcome is VerdictState.FAILED)
            failed = failed_before + failed_here
            if failed / len(services) > self.threshold:
                return self._phase_over_threshold(phase, services, failed)
        return None

    def _phase_over_threshold(self, phase: Phase, services: list[ServicePlan], failed: int) -> RunOutcome:
        share = failed / len(services)
        self.emit("threshold", phase=phase.value, failed=failed, total=len(services))
        for sp in services:
            if self._status(sp.service).kept:
                self.journal.rollback(service=sp.service)
                self.journal.set_service_status(sp.service, ServiceStatus.ROLLED_BACK)
                self.journal.set_step(sp.service, "phase-rollback", StepStatus.DONE, f"phase {phase.value} over the failure threshold")
                self._hook("on_rollback", sp, self.service(sp.service))
        self.journal.set_status(RunStatus.FAILED)
        self.hooks.run("after_run", cwd=self.root, run_id=self.journal.run_id, status=RunStatus.FAILED)
        return RunOutcome(self.journal.run_id, RunStatus.FAILED,
                          f"phase {phase.value}: {failed} of {len(services)} services failed ({share:.0%} > threshold {self.threshold:.0%}); "
                          f"the phase was rolled back and the run stopped. Earlier phases stay migrated.")

    # ---- one service ----------------------------------------------------------------------------

    def _status(self, service: str) -> ServiceStatus:
        return ServiceStatus.of(self.journal.service_status(service))

    def _timeout(self, service: Service) -> float:
        return self.config.options(service.name, service.path).timeout or self.config.step_timeout

    def _baseline(self, sp: ServicePlan) -> TestRun:
        from fleetshift import verify

        service = self.service(sp.service)
        self._step(sp.service, "baseline", StepStatus.RUNNING)
        run = self.executor.baseline(self._request(service))
        detail = run.summary() if run.state is RunState.RAN else verify.unverifiable_reason(run)
        self._step(sp.service, "baseline", StepStatus.DONE if run.state is RunState.RAN else StepStatus.FAILED,
                   _on_node(run, detail), node=run.node)
        with self._lock:
            self.baselines[sp.service] = run
        (self.run_dir / "baselines").mkdir(exist_ok=True)
        replace_file(self.run_dir / "baselines" / f"{sp.service}.json", json.dumps(to_jsonable(run), indent=1))
        return run

    def _load_baselines(self) -> None:
        """Baselines this run already took (a resumed run must not retake them on a half-migrated fleet)."""
        paths = sorted((self.run_dir / "baselines").glob("*.json"))
        if not paths:  # (a run that verifies nothing never loads the verify package)
            return
        from fleetshift import verify

        for path in paths:
            try:
                self.baselines[path.stem] = verify.run_from_json(json.loads(path.read_text("utf-8")))
            except (OSError, ValueError, KeyError, TypeError):
                continue

    def _baselines(self, services: list[ServicePlan]) -> None:
        """Every service's tests on its old pins, before anything is rewritten (a shared library migrated in
        an early phase must not change what a later service's baseline installs). Cached across runs."""
        if not services:
            return
        # Waiting for its turn is "pending"; the entry a step's record creates would say "running".
        recorded = self.journal.service_statuses()
        for sp in services:
            if sp.service not in recorded:
                self.journal.set_service_status(sp.service, ServiceStatus.PENDING)
        self.emit("phase", phase="baseline", total=len(services), done=0)
        self._pooled(self._baseline, services)

    def _skip(self, sp: ServicePlan, why: str) -> Verdict:
        self.journal.set_service_status(sp.service, ServiceStatus.SKIPPED)
        self.journal.set_step(sp.service, "skip", StepStatus.SKIPPED, why)
        verdict = Verdict(sp.service, passed=True, skipped=True, reason=why, state=VerdictState.SKIPPED)
        self._save_verdict(verdict)
        self.emit("service", service=sp.service, status=ServiceStatus.SKIPPED, detail=why)
        return verdict

    def _step(self, service: str, step: str, status: StepStatus, detail: str = "", node: str = "") -> None:
        self.journal.set_step(service, step, status, detail)
        self.emit("step", service=service, step=step, status=status, detail=detail, **({"node": node} if node else {}))

    def _hook(self, point: str, sp: ServicePlan, service: Service, **extra: str) -> HookResult:
        if not self.hooks.has(point):  # what `run` answers for a point with nothing to run, without building its context
            return HookResult(True)
        return self.hooks.run(point, cwd=self.root / service.path, run_id=self.journal.run_id, service=sp.service,
                              service_dir=str(self.root / service.path), phase=sp.phase.value, **extra)

    def process(self, sp: ServicePlan) -> Verdict:
        """Migrate and verify one service; roll it back alone when anything fails, even fleetshift itself."""
        try:
            return self._process(sp)
        except Exception as exc:  # one service's surprise must not take the fleet's run down with it
            service = self.service(sp.service)
            log = self.run_dir / "logs" / sp.service / "fleetshift-error.log"
            try:  # the whole traceback, for a bug report
                log.parent.mkdir(parents=True, exist_ok=True)
                log.write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
                where = f"; traceback in {log}"
            except OSError:
                where = ""
            why = f"fleetshift failed on this service ({type(exc).__name__}: {exc}); its files were restored{where}"
            return self._fail(sp, service, ChangeSet(sp.service), self.baselines.get(sp.service), None, why)

    def _process(self, sp: ServicePlan) -> Verdict:
        name = sp.service
        service = self.service(name)
        chain = self.chain(sp)
        if self._status(name) is ServiceStatus.RUNNING:  # interrupted mid-way in an earlier process: start it over
            self.journal.rollback(service=name, force=False)
        self.journal.set_service_status(name, ServiceStatus.RUNNING)
        self.emit("service", service=name, status=ServiceStatus.RUNNING)
        res = self._hook("before_service", sp, service)
        if not res.ok:
            return self._skip(sp, f"before_service hook failed: {res.detail}")
        opts = self.config.options(name, service.path)
        blocked = [d for d in sp.depends_on if not self._status(d).migrated]
        if blocked:
            return self._skip(sp, f"not migrated: it depends on {', '.join(blocked)}, which did not migrate in this run")
        baseline = self.baselines.get(name)
        if self.options.verify and chain and baseline is None:
            baseline = self._baseline(sp)
        keep = self.options.keep_unverified or self.config.keeps_unverified(name, service.path)
        self._step(name, "rewrite", StepStatus.RUNNING)
        cs = rewrite_service(self.root, service, chain, self.config, self.options.todo_comments) if chain else ChangeSet(name)
        if baseline is not None and baseline.state is not RunState.RAN and (not keep or baseline.state is RunState.INSTALL_FAILED):
            return self._not_applied(sp, service, cs, baseline, keep)
        for recipe in chain:
            res = self._hook("before_recipe", sp, service, recipe=recipe)
            if not res.ok:
                self._step(name, "rewrite", StepStatus.SKIPPED, res.detail)
                return self._skip(sp, f"before_recipe hook failed for {recipe}: {res.detail}")
        self.journal.write_many(name, [(c.file, c.new, c.recipes, c.old) for c in cs.changes])
        self._save_findings(name, cs)
        self._step(name, "rewrite", StepStatus.DONE, f"{len(cs.changes)} file(s) changed by {', '.join(chain) or 'no recipe'}")
        for recipe in chain:
            res = self._hook("after_recipe", sp, service, recipe=recipe)
            if not res.ok:
                return self._fail(sp, service, cs, baseline, None, f"after_recipe hook failed for {recipe}: {res.detail}")
        res = self._hook("build", sp, service)
        if not res.ok:
            return self._fail(sp, service, cs, baseline, None, f"build hook failed: {res.detail}")
        after = None
        before_rewrite = service
        if self.options.verify:
            from fleetshift import verify

            service = _reread_manifests(self.root, service)  # to install the new pins (a hook reads only its folder)
            res = self._hook("before_verify", sp, service)
            if not res.ok:
                return self._fail(sp, service, cs, baseline, None, f"before_verify hook failed: {res.detail}")
            self._step(name, "verify", StepStatus.RUNNING)
            request = self._request(service, before=before_rewrite, old_files={c.file: c.old for c in cs.changes})
            after = self.executor.after(request)
            verdict = verify.compare(baseline, after)
            if not chain and verdict.passed:  # nothing was rewritten: this run is the proof it works as it is
                verdict = replace(verdict, reason=f"nothing to migrate; {after.summary()}", state=VerdictState.NO_OP)
            kept_unverified = verdict.outcome is VerdictState.UNVERIFIABLE and keep and bool(chain)
            if kept_unverified:
                verdict = replace(verdict, reason=f"kept, unverified ({self._keep_source(service)}): {verdict.reason}")
            self._step(name, "verify", StepStatus.DONE if verdict.passed or kept_unverified else StepStatus.FAILED,
                       _on_node(after, verdict.reason), node=after.node)
            hook_status = "passed" if verdict.outcome in {VerdictState.PASSED, VerdictState.NO_OP} else verdict.outcome.value
            res = self._hook("after_verify", sp, service, status=hook_status)
            if not verdict.passed and not kept_unverified:
                return self._fail(sp, service, cs, baseline, after, verdict.reason, verdict)
            if not res.ok:
                return self._fail(sp, service, cs, baseline, after, f"after_verify hook failed: {res.detail}")
            if opts.health:
                self._step(name, "health", StepStatus.RUNNING)
                health = self.executor.health(request)
                self._step(name, "health", StepStatus.DONE if health.ok else StepStatus.FAILED, health.detail)
                if not health.ok:
                    return self._fail(sp, service, cs, baseline, after, f"health check failed: {health.detail}",
                                      Verdict(name, False, baseline=baseline, after=after, health=health, reason=health.detail))
                verdict = Verdict(**{**verdict.__dict__, "health": health})
        elif chain:
            verdict = Verdict(name, passed=True, state=VerdictState.NOT_VERIFIED,
                              reason="applied, not verified (--no-verify): no test ran on the old or the new pins")
        else:
            verdict = Verdict(name, passed=True, state=VerdictState.NO_OP, reason="nothing to migrate (not verified: --no-verify)")
        if not chain:
            verdict = replace(verdict, state=VerdictState.NO_OP)
        status = {VerdictState.PASSED: ServiceStatus.PASSED, VerdictState.NO_OP: ServiceStatus.NO_OP,
                  VerdictState.NOT_VERIFIED: ServiceStatus.NOT_VERIFIED,
                  VerdictState.UNVERIFIABLE: ServiceStatus.KEPT_UNVERIFIED}[verdict.outcome]
        res = self._hook("after_service", sp, service, status=status)
        if not res.ok:
            return self._fail(sp, service, cs, baseline, after, f"after_service hook failed: {res.detail}")
        verdict = Verdict(**{**verdict.__dict__, "recipes": chain, "applied": cs.recipes,
                             "files": tuple(c.file for c in cs.changes)})
        self._save_verdict(verdict)
        self.journal.set_service_status(name, status)
        self.emit("service", service=name, status=status, detail=verdict.reason)
        return verdict

    def _request(self, service: Service, **after: Any) -> verify.VerifyRequest:
        """What a verification step of `service` needs, for the executor (`after`: before, old_files)."""
        from fleetshift import verify

        opts = self.config.options(service.name, service.path)
        return verify.VerifyRequest(self.root, service, self.run_dir, timeout=self._timeout(service),
                                    test_command=opts.test_command, options=opts, config_file=self.config.source,
                                    moved=self._moved_packages(), health=opts.health, **after)

    def _moved_packages(self) -> tuple[str, ...]:
        """The packages this campaign moves (its targets and what they replace): the after-environment upgrades
        only these in a service's lock."""
        names = {name for name in self.config.targets}
        names |= {t.replaces for t in self.config.targets.values() if t.replaces}
        return tuple(sorted(names))

    def _keep_source(self, service: Service) -> str:
        return "--keep-unverified" if self.options.keep_unverified else f"keep_unverified in {self.config.source or 'the config'}"

    def _not_applied(self, sp: ServicePlan, service: Service, cs: ChangeSet, baseline: TestRun, keep: bool) -> Verdict:
        """The baseline could not run: nothing proves the change, so it is not applied (the rewrite is computed
        for its findings, never written). An install failure is never kept, even with --keep-unverified."""
        from fleetshift import verify

        name = sp.service
        self._save_findings(name, cs)
        why = verify.unverifiable_reason(baseline)
        if baseline.state is RunState.INSTALL_FAILED:
            fix = "fix the install (see the log), or set python / groups / test_command for this service in fleetshift.toml"
            if keep:
                why += "; not applied even with keep_unverified: nothing is rewritten before the old pins install"
        else:
            fix = ("make the tests run on the old pins (see the log; test_command, python, groups in fleetshift.toml), "
                   "or keep it unproven with --keep-unverified")
        reason = f"{why}; the migration was not applied ({len(cs.changes)} file(s) left as they were). Fix: {fix}"
        self._step(name, "rewrite", StepStatus.SKIPPED, f"not applied: the baseline could not run [{baseline.state.value}]")
        self._hook("on_failure", sp, service, reason=reason)
        verdict = Verdict(name, False, reason, error=baseline.error, log=baseline.log, baseline=baseline, rolled_back=True,
                          recipes=self.chain(sp), files=tuple(c.file for c in cs.changes), state=VerdictState.UNVERIFIABLE)
        self._save_verdict(verdict)
        self.journal.set_service_status(name, ServiceStatus.UNVERIFIABLE)
        self.emit("service", service=name, status=ServiceStatus.UNVERIFIABLE, detail=reason)
        return verdict

    def _fail(self, sp: ServicePlan, service: Service, cs: ChangeSet, baseline: Any, after: Any, why: str,
              verdict: Verdict | None = None) -> Verdict:
        name = sp.service
        self._hook("on_failure", sp, service, reason=why)
        report = self.journal.rollback(service=name)
        self._step(name, "rollback", StepStatus.DONE, f"{len(report.restored) + len(report.removed)} file(s) restored")
        self._hook("on_rollback", sp, service)
        base = verdict or Verdict(name, False, baseline=baseline, after=after, reason=why)
        state = VerdictState.UNVERIFIABLE if base.state is VerdictState.UNVERIFIABLE else VerdictState.FAILED
        if state is VerdictState.UNVERIFIABLE:
            why += "; rolled back (keep it unproven with --keep-unverified)"
        verdict = Verdict(**{**base.__dict__, "passed": False, "reason": why, "rolled_back": True, "recipes": self.chain(sp),
                             "files": tuple(c.file for c in cs.changes), "state": state})
        self._save_verdict(verdict)
        status = ServiceStatus.UNVERIFIABLE if state is VerdictState.UNVERIFIABLE else ServiceStatus.FAILED
        self.journal.set_service_status(name, status)
        self.emit("service", service=name, status=status, detail=why)
        return verdict

    def _save_verdict(self, verdict: Verdict) -> None:
        (self.run_dir / "verdicts").mkdir(exist_ok=True)
        replace_file(self.run_dir / "verdicts" / f"{verdict.service}.json", json.dumps(to_jsonable(verdict), indent=2))

    def _save_findings(self, service: str, cs: ChangeSet) -> None:
        (self.run_dir / "findings").mkdir(exist_ok=True)
        replace_file(self.run_dir / "findings" / f"{service}.json", json.dumps(to_jsonable(cs.findings), indent=2))


_CLOSING = (
    (VerdictState.PASSED, "passed"),
    (VerdictState.NO_OP, "no-op"),
    (VerdictState.NOT_VERIFIED, "applied, not verified"),
    (VerdictState.FAILED, "failed and rolled back"),
    (VerdictState.SKIPPED, "skipped"),
)


def closing_line(verdicts: dict[str, Verdict]) -> str:
    """The run's last line: how many services ended in each verdict state, unproven ones named."""
    parts: list[str] = []
    for state, label in _CLOSING[:3]:
        n = sum(1 for v in verdicts.values() if v.outcome is state)
        if n:
            parts.append(f"{n} {label}")
            uncovered = [k for k, v in verdicts.items() if v.outcome is state and v.not_covered]
            if uncovered:  # never a plain "passed": no test that ran imports their migrated files
                parts[-1] += f" ({len(uncovered)} not covered: {', '.join(uncovered)})"
    unverifiable = [n for n, v in verdicts.items() if v.outcome is VerdictState.UNVERIFIABLE]
    kept = [n for n in unverifiable if not verdicts[n].rolled_back]
    dropped = [n for n in unverifiable if verdicts[n].rolled_back]
    if kept:
        parts.append(f"{len(kept)} kept unverified (the baseline could not run): {', '.join(kept)}")
    if dropped:
        parts.append(f"{len(dropped)} unverifiable and not applied (the baseline could not run): {', '.join(dropped)}")
    for state, label in _CLOSING[3:]:
        names = [n for n, v in verdicts.items() if v.outcome is state]
        if names:
            parts.append(f"{len(names)} {label}" + (f": {', '.join(names)}" if state is VerdictState.FAILED else ""))
    return f"{len(verdicts)} service(s) processed: " + ("; ".join(parts) or "nothing to do")


def _on_node(run: TestRun, detail: str) -> str:
    """A step's detail, prefixed with the node it ran on when it ran elsewhere than here."""
    return f"on node {run.node}: {detail}" if run.node else detail


def _reread_manifests(root: Path, service: Service) -> Service:
    """The service with its manifests read again from disk, so verification installs the new pins."""
    return replace(service, manifests=tuple(read_manifest(root, m.file)[0] for m in service.manifests))


def is_interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()
