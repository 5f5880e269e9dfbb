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

from collections.abc import Iterable, Mapping
from dataclasses import replace

from fleetshift.model import (
    ApiDiagnostic,
    RunState,
    Service,
    TestOutcome,
    TestRun,
    TestStatus,
    Verdict,
    VerdictState,
)
from fleetshift.verify.apicheck import check_packages, files_using, library_names, new_diagnostics, run_check
from fleetshift.verify.cache import (
    baseline,
    baseline_cache_path,
    baseline_key,
    cached_baseline,
    run_from_json,
    shadow_tree,
    store_baseline,
)
from fleetshift.verify.coverage import could_not_run, exercised, not_covered, smoke_modules
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
from fleetshift.verify.request import VerifyRequest
from fleetshift.verify.runs import (
    as_baseline,
    classify,
    describe,
    import_smoke,
    parse_junit,
    resolve_test_command,
    run_tests,
    runner_of,
    with_options,
)


def after(request: VerifyRequest) -> TestRun:
    """The service's tests on its new pins (its files as they are now); the "new" environment is kept for
    the health check, where the API check also runs on the Python files the migration touched
    (`request.old_files`) against the moved packages (`request.moved`, test tooling aside). The options (the
    service's config), `before` (the service as discovered before the rewrite), `moved` and `old_files` go to
    `make_env`, which keeps a lock's versions but the moved ones; the test command's environment gets
    `extra_env` or else `options.env`."""
    r = request
    root, service, run_dir, timeout = r.root, r.service, r.run_dir, r.timeout
    env = make_env(
        root, service, run_dir, "new", python=r.python, timeout=timeout, pin_overrides=r.pin_overrides,
        env_root=r.env_root, options=r.options, before=r.before, upgrade=r.moved, old_files=r.old_files,
        config_file=r.config_file,
    )  # fmt: skip
    extra_env = r.extra_env
    if extra_env is None and r.options is not None:
        extra_env = r.options.env
    run = run_tests(root, service, env, run_dir, timeout=timeout, test_command=r.test_command, extra_env=extra_env)
    packages = check_packages(r.moved)
    touched = [f for f in (r.old_files or {}) if f.endswith(".py") and _in_service(service, f)]
    if env.ok and packages and touched:
        logs = log_dir(run_dir, service)
        modules, names = library_names(env.python, packages, logs)
        modules |= {p.replace("-", "_") for p in packages}
        checked = set(files_using(root, service, modules))  # as the baseline chose: files importing them
        files = [f for f in touched if f in checked]
        api = run_check(root, service, env.python, files, packages, logs, label="new",
                        python_version=env.python_version, library=(modules, names))  # fmt: skip
        run = replace(run, api=api)
    if touched:
        smoke = smoke_modules(root, service, touched)
        imports = import_smoke(root, service, env, run_dir, list(smoke), timeout=min(timeout, 120.0),
                               extra_env=extra_env)  # fmt: skip
        run = replace(run, imports=imports, migrated=tuple(touched), exercises=exercised(root, service, touched))
    return run


def _in_service(service: Service, file: str) -> bool:
    base = service.path.strip("/")
    return not base or base == "." or file.startswith(base + "/")


def _base_id(test_id: str) -> str:
    """A test id without its parametrize brackets: `tests.t::test_x[a-b]` -> `tests.t::test_x`."""
    return test_id.split("[", 1)[0]


def renamed_tests(before: Mapping[str, TestOutcome], now: Mapping[str, TestOutcome]) -> tuple[tuple[str, str], ...]:
    """Tests that passed on the baseline and are absent after, paired with new ids of the same test function
    (the id before the parametrize brackets) when both sides have the same number of them: their
    parametrize ids changed (e.g. pytest 9 writes `test_x[a_b]` where 8 wrote `test_x[a-b]`)."""
    gone: dict[str, list[str]] = {}
    for t, o in before.items():
        if "[" in t and o.status == TestStatus.PASSED and t not in now:
            gone.setdefault(_base_id(t), []).append(t)
    new: dict[str, list[str]] = {}
    for t in now:
        if "[" in t and t not in before:
            new.setdefault(_base_id(t), []).append(t)
    pairs: list[tuple[str, str]] = []
    for base, old_ids in gone.items():
        before_all = sorted(t for t in before if _base_id(t) == base and t not in now)
        new_ids = new.get(base, [])
        if new_ids and len(before_all) == len(new_ids) and len(old_ids) == len(before_all):
            pairs += zip(sorted(old_ids), sorted(new_ids), strict=True)
    return tuple(pairs)


def _log_of(run: TestRun) -> str:
    return f"(log: {run.log})" if run.log else ""


def run_summary(run: TestRun) -> str:
    """One line for a run: its counts when it ran, else its state."""
    if run.state is RunState.RAN:
        return run.summary()
    return f"{run.label} pins, {run.kind}: did not run [{run.state.value}]"


def unverifiable_reason(baseline: TestRun) -> str:
    """Why a baseline is no evidence: its state in words, the error and the log."""
    what = describe(baseline.state) or "the baseline did not run"
    detail = f": {baseline.error}" if baseline.error else ""
    return f"unverifiable: on the old pins {what} [{baseline.state.value}]{detail} {_log_of(baseline)}".rstrip()


def compare(baseline: TestRun | None, after: TestRun) -> Verdict:
    """Judge the run on the new pins against the baseline: only tests that did not fail before and fail (or
    error) now are regressions; a test whose parametrize id changed is matched as renamed. A baseline that did
    not run (any state but RAN), or ran without one passing test (NO_PASSING), proves nothing: the verdict is
    UNVERIFIABLE (FAILED when the new pins' run fails tests). Without a baseline every test must pass."""
    name = after.service
    state = VerdictState
    if baseline is not None:
        baseline = as_baseline(baseline)
    if baseline is not None and baseline.state is not RunState.RAN:
        why = unverifiable_reason(baseline)
        if after.state is RunState.RAN and after.failing:
            reason = (f"{len(after.failing)} test(s) fail on the new pins and nothing shows they passed before; "
                      f"{why}; after: {after.summary()} {_log_of(after)}")
            return Verdict(name, False, reason, after.failing, error=after.error, log=after.log, baseline=baseline,
                           after=after, state=state.FAILED)
        return Verdict(name, False, f"{why}; after: {run_summary(after)}", error=baseline.error or after.error,
                       log=baseline.log, baseline=baseline, after=after, state=state.UNVERIFIABLE)  # fmt: skip
    if after.state is RunState.LOST:  # nothing ran to its end: no evidence either way
        reason = f"unverifiable: on the new pins {describe(after.state)}: {after.error}"
        return Verdict(name, False, reason, error=after.error, log=after.log, baseline=baseline, after=after,
                       state=state.UNVERIFIABLE)  # fmt: skip
    if not after.installed:
        reason = f"could not install the new pins: {after.error} {_log_of(after)}"
        state_now = state.FAILED if baseline is not None else state.UNVERIFIABLE
        return Verdict(name, False, reason, error=after.error, log=after.log, baseline=baseline, after=after,
                       state=state_now)  # fmt: skip
    if after.timed_out:
        reason = f"{after.error} {_log_of(after)}"
        state_now = state.FAILED if baseline is not None else state.UNVERIFIABLE
        return Verdict(name, False, reason, error=after.error, log=after.log, baseline=baseline, after=after,
                       state=state_now)  # fmt: skip
    if after.state is not RunState.RAN:
        what = describe(after.state)
        if baseline is not None:
            reason = (f"the tests ran on the old pins but not on the new ones: {what} [{after.state.value}]: "
                      f"{after.error} {_log_of(after)}")
            return Verdict(name, False, reason, error=after.error, log=after.log, baseline=baseline, after=after,
                           state=state.FAILED)  # fmt: skip
        reason = f"unverifiable: {what} [{after.state.value}]: {after.error} {_log_of(after)}"
        return Verdict(name, False, reason, error=after.error, log=after.log, baseline=baseline, after=after,
                       state=state.UNVERIFIABLE)  # fmt: skip
    before = {o.id: o for o in baseline.outcomes} if baseline is not None else {}
    now = {o.id: o for o in after.outcomes}
    renamed = renamed_tests(before, now)
    failing_now = after.failing
    regressions = tuple(t for t in failing_now if not (t in before and before[t].failing))
    pre_existing = tuple(t for t in failing_now if t in before and before[t].failing)
    fixed = tuple(t for t, o in before.items() if o.failing and t in now and not now[t].failing)
    before_imports = {o.id: o for o in baseline.imports} if baseline is not None else {}
    import_failing = [o for o in after.imports if o.failing]
    import_regressions = [o for o in import_failing if not (o.id in before_imports and before_imports[o.id].failing)]
    regressions += tuple(o.id for o in import_regressions)
    pre_existing += tuple(o.id for o in import_failing if o not in import_regressions)
    was_renamed = {old for old, _ in renamed}
    missing = tuple(
        t for t, o in before.items() if o.status == TestStatus.PASSED and t not in now and t not in was_renamed
    )
    counts = f"{len(after.passed)} passed"
    if pre_existing:
        counts += f", {len(pre_existing)} failing before and after (pre-existing, not blamed)"
    if fixed:
        counts += f", {len(fixed)} fixed"
    if renamed:
        renamed_failing = sum(1 for _, new in renamed if now[new].failing)
        counts += f", {len(renamed)} renamed (parametrize id changed"
        counts += f"; {renamed_failing} of them now fail)" if renamed_failing else "; all still pass)"
    if missing:
        counts += f", {len(missing)} passed before and did not run after"
    note = "" if baseline is not None else " (no baseline: every test must pass)"
    if baseline is not None and baseline.kind != after.kind and baseline.passed:
        reason = (f"the tests ran as {baseline.kind} on the old pins but as {after.kind} on the new ones "
                  f"{_log_of(after)}")
        return Verdict(name, False, reason, (), pre_existing, fixed, missing, after.error, after.log, baseline, after,
                       state=state.FAILED, renamed=renamed)  # fmt: skip
    if baseline is not None and baseline.api is None and after.api is not None:  # a baseline from before the check
        after = replace(after, api=replace(after.api, error="the baseline was taken without the API check"))
    api_new = new_diagnostics(baseline.api if baseline is not None else None, after.api)
    api_note = api_summary(after, api_new)
    for o in import_regressions[:3]:
        api_note += f"; {o.id} fails on the new pins: {_last_line(o.message)}"
    exercises = dict(after.exercises)
    skipped_both = [t for t, o in now.items() if o.status is TestStatus.SKIPPED
                    and (t not in before or before[t].status is TestStatus.SKIPPED)]  # fmt: skip
    unreached = could_not_run([t for t in pre_existing if not t.startswith("import:")] + skipped_both,
                              exercises, after.kind)  # fmt: skip
    uncovered: tuple[str, ...] = ()
    if after.migrated:
        found = not_covered(after.passed, after.migrated, exercises, after.kind)
        uncovered = after.migrated if found is None else found
    if unreached:
        shown_u = "; ".join(f"{t} would exercise {', '.join(files)}" for t, files in unreached[:5])
        more = f"; and {len(unreached) - 5} more" if len(unreached) > 5 else ""
        api_note += f"; could not run on either side: {shown_u}{more}"
    if regressions:
        shown = ", ".join(regressions[:5]) + (
            f" and {len(regressions) - 5} more" if len(regressions) > 5 else ""
        )
        reason = f"{len(regressions)} regression(s): {shown}; {counts}{note}{api_note} {_log_of(after)}"
        passed = False
    elif api_new:
        reason = f"{after.kind}: {counts}{note}{api_note} (log: {after.api.log if after.api else ''})"
        passed = False
    else:
        reason = f"{after.kind}: {counts}{note}{api_note}"
        passed = True
        if uncovered:
            reason = f"{not_covered_label(uncovered)} (no test that ran imports them); {reason}"
    return Verdict(name, passed, reason, regressions, pre_existing, fixed, missing, after.error, after.log,
                   baseline, after, state=state.PASSED if passed else state.FAILED, renamed=renamed,
                   api_regressions=api_new, not_covered=uncovered, unreached=unreached)  # fmt: skip


def not_covered_label(files: Iterable[str]) -> str:
    """The label of a passed service whose migrated files no test that ran imports: never a plain "passed"."""
    files = list(files)
    shown = ", ".join(files[:5]) + (f" and {len(files) - 5} more" if len(files) > 5 else "")
    return f"passed, not covered: {shown}"


def _last_line(message: str) -> str:
    lines = [ln.strip() for ln in message.strip().splitlines() if ln.strip()]
    return lines[-1][:300] if lines else "failed"


def api_summary(after: TestRun, new: tuple[ApiDiagnostic, ...]) -> str:
    """The API check in a verdict's reason: its regressions with file:line, or what it checked."""
    api = after.api
    if api is None or (api.ran and not api.files):
        return ""
    if not api.ran:
        return f"; API check not run: {api.error}"
    if new:
        shown = "; ".join(d.describe() for d in new[:5]) + (f"; and {len(new) - 5} more" if len(new) > 5 else "")
        return f"; {len(new)} API regression(s) ({api.checker}, the new release of {', '.join(api.packages)}): {shown}"
    return f"; API check ({api.checker}): {len(api.files)} touched file(s) clean against {', '.join(api.packages)}"



__all__ = [
    "BASELINE_CACHE_DIR",
    "DEFAULT_TIMEOUT",
    "ENVS_DIR",
    "Env",
    "InstallPlan",
    "VerifyRequest",
    "after",
    "api_summary",
    "as_baseline",
    "baseline",
    "baseline_cache_path",
    "baseline_key",
    "cached_baseline",
    "check_health",
    "child_env",
    "classify",
    "compare",
    "describe",
    "env_path",
    "free_port",
    "health",
    "installable",
    "log_dir",
    "make_env",
    "not_covered_label",
    "parse_junit",
    "remove_env",
    "renamed_tests",
    "requirement_string",
    "requirements_for",
    "resolve_test_command",
    "run_from_json",
    "run_summary",
    "run_tests",
    "runner_of",
    "shadow_tree",
    "store_baseline",
    "unverifiable_reason",
    "with_options",
]
