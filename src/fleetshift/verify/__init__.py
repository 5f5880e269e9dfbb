"""The verify stage: a service's own tests in an isolated uv environment, on its old pins (the baseline) and
on its new pins, compared so that only regressions fail it; plus an optional health check.

Environments live in `<fleet>/.fleetshift/envs/<service>-<old|new>` and are made afresh for every run (uv's
shared cache makes that cheap). The "old" one is removed once its baseline is recorded; the "new" one is
kept for the health check and for a human to reproduce a failure, and replaced by the next run. Baselines
are cached in `<fleet>/.fleetshift/cache/baseline/<service>-<hash>.json`, keyed by every file of the
service, the manifests it includes, the local packages it installs, the interpreter and the options.
A baseline taken after this run already rewrote a file it is built from (a shared library migrated in an
earlier phase) gets that file's old bytes (`old_files`) and runs in a scratch copy. Logs go to
`<run_dir>/logs/<service>/<old|new>-<step>.log`. Nothing here raises for a failing service: every problem
ends up in the returned record, with the path of its log.

Modules: `envs` (what to install, uv environments), `runs` (pytest via JUnit XML, import smoke), `cache`
(the cached baseline), `health` (health checks); this one holds the run on the new pins and the verdict.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from fleetshift.model import Service, TestRun, TestStatus, Verdict
from fleetshift.verify.cache import baseline, baseline_cache_path, baseline_key, run_from_json, shadow_tree
from fleetshift.verify.envs import (
    BASELINE_CACHE_DIR,
    DEFAULT_TIMEOUT,
    ENVS_DIR,
    Env,
    InstallPlan,
    child_env,
    env_path,
    installable,
    log_dir,
    make_env,
    remove_env,
    requirement_string,
    requirements_for,
)
from fleetshift.verify.health import check_health, free_port, health
from fleetshift.verify.runs import parse_junit, run_tests


def after(
    root: Path,
    service: Service,
    run_dir: Path,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    python: str = "",
    test_command: str = "",
    pin_overrides: Mapping[str, str] | None = None,
    env_root: Path | None = None,
) -> TestRun:
    """The service's tests on its new pins (its files as they are now); the "new" environment is kept for
    the health check."""
    env = make_env(
        root,
        service,
        run_dir,
        "new",
        python=python,
        timeout=timeout,
        pin_overrides=pin_overrides,
        env_root=env_root,
    )
    return run_tests(root, service, env, run_dir, timeout=timeout, test_command=test_command)


def compare(baseline: TestRun | None, after: TestRun) -> Verdict:
    """Judge the run on the new pins against the baseline: only tests that did not fail before and fail (or
    error) now are regressions. Without a usable baseline every test must pass."""
    name = after.service
    if not after.installed:
        reason = f"could not install the new pins: {after.error} (log: {after.log})"
        return Verdict(name, False, reason, error=after.error, log=after.log, baseline=baseline, after=after)
    if after.timed_out:
        reason = f"{after.error} (log: {after.log})"
        return Verdict(name, False, reason, error=after.error, log=after.log, baseline=baseline, after=after)
    usable = baseline is not None and baseline.ran
    before = {o.id: o for o in baseline.outcomes} if usable and baseline else {}
    failing_now = after.failing
    regressions = tuple(t for t in failing_now if not (t in before and before[t].failing))
    pre_existing = tuple(t for t in failing_now if t in before and before[t].failing)
    now = {o.id: o for o in after.outcomes}
    fixed = tuple(t for t, o in before.items() if o.failing and t in now and not now[t].failing)
    missing = tuple(t for t, o in before.items() if o.status == TestStatus.PASSED and t not in now)
    counts = f"{len(after.passed)} passed"
    if pre_existing:
        counts += f", {len(pre_existing)} failing before and after (pre-existing, not blamed)"
    if fixed:
        counts += f", {len(fixed)} fixed"
    if missing:
        counts += f", {len(missing)} passed before and did not run after"
    note = "" if usable else " (no usable baseline: every test must pass)"
    if usable and baseline and baseline.kind == "pytest" and baseline.passed and after.kind != "pytest":
        reason = (
            f"the tests that passed on the old pins were not collected on the new ones (log: {after.log})"
        )
        return Verdict(
            name, False, reason, (), pre_existing, fixed, missing, after.error, after.log, baseline, after
        )
    if regressions:
        shown = ", ".join(regressions[:5]) + (
            f" and {len(regressions) - 5} more" if len(regressions) > 5 else ""
        )
        reason = f"{len(regressions)} regression(s): {shown}; {counts}{note} (log: {after.log})"
        passed = False
    else:
        reason = f"{after.kind}: {counts}{note}"
        passed = True
    return Verdict(name, passed, reason, regressions, pre_existing, fixed, missing, after.error, after.log,
                   baseline, after)  # fmt: skip


__all__ = [
    "BASELINE_CACHE_DIR",
    "DEFAULT_TIMEOUT",
    "ENVS_DIR",
    "Env",
    "InstallPlan",
    "after",
    "baseline",
    "baseline_cache_path",
    "baseline_key",
    "check_health",
    "child_env",
    "compare",
    "env_path",
    "free_port",
    "health",
    "installable",
    "log_dir",
    "make_env",
    "parse_junit",
    "remove_env",
    "requirement_string",
    "requirements_for",
    "run_from_json",
    "run_tests",
    "shadow_tree",
]
