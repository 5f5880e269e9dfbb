"""The command line: parses options, calls the stages, renders. No migration logic lives here.

Exit codes: 0 success; 1 the command ran and found problems (check found old API, a run had a failed or an
unverifiable service);
2 the command could not run (bad path, bad config, bad option); 3 a run stopped to wait for approval
(phase D without a terminal): `fleetshift resume FLEET --yes` continues it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from fleetshift import __version__
from fleetshift.config import CONFIG_NAME, ConfigError, default_targets
from fleetshift.discover import DiscoveryError
from fleetshift.gitops import GitError
from fleetshift.model import Action, Phase, Project, RunStatus, Selection, to_jsonable
from fleetshift.recipes import RecipeError, all_recipes

if TYPE_CHECKING:
    from fleetshift.gitops import GitRecord
    from fleetshift.gitrun import GitStart
    from fleetshift.journal import Journal
    from fleetshift.pipeline import Analysis, Survey
    from fleetshift.recipes.base import Recipe
    from fleetshift.runner import Finished

app = typer.Typer(
    name="fleetshift",
    help=(
        "Upgrade a whole fleet of Python services across breaking library releases, and prove each "
        "service still works before keeping the change.\n\n"
        "First time: `fleetshift wizard FLEET` walks through a campaign, asking at each step.\n\n"
        "Typical session: `fleetshift scan FLEET` (who uses what), `fleetshift plan FLEET --out reports/` "
        "(risk-phased rollout), `fleetshift run FLEET --dry-run` (diffs), `fleetshift run FLEET` "
        "(rewrite, verify, roll back what breaks), `fleetshift check FLEET` (what is left)."
    ),
    epilog=(
        "Exit codes: 0 success; 1 ran and found something (old API left, a failed or unverifiable service, a refused "
        "rollback); "
        "2 could not run (bad path, config or option; the message names the file and the fix); "
        "3 a run stopped to wait for approval of a critical service (continue with `fleetshift resume FLEET --yes`). "
        "Config: fleetshift.toml at the fleet root (see README)."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
recipes_app = typer.Typer(help="The recipe catalogue: what each recipe detects, changes and flags.", invoke_without_command=True)
app.add_typer(recipes_app, name="recipes")

T = TypeVar("T")
out = Console(highlight=False, soft_wrap=True, markup=False, width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)

FleetArg = Annotated[Path, typer.Argument(help="The fleet: a folder holding the services (a monorepo).", show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout instead of a table.")]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="Ignore and do not write the scan cache in .fleetshift/cache/.")]


def fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"error: {message}", style="bold red")
    return typer.Exit(code)


def _guarded(stage: Callable[[], T]) -> T:
    """Run a stage; the errors a user can fix become a clean message and exit 2."""
    try:
        return stage()
    except (ConfigError, DiscoveryError, RecipeError, GitError) as exc:
        raise fail(str(exc)) from None


def _survey(path: Path, *, use_cache: bool = True) -> Survey:
    from fleetshift.pipeline import survey

    return _guarded(lambda: survey(path, use_cache=use_cache))


def _analyse(path: Path, *, use_cache: bool = True, pins_ahead: Selection | None = None) -> Analysis:
    from fleetshift.pipeline import analyse

    return _guarded(lambda: analyse(path, use_cache=use_cache, pins_ahead=pins_ahead))


NO_TARGETS = "no targets: nothing will be migrated"


def _say_no_targets(a: Survey) -> None:
    """An empty [targets] turns every migration off: every command says so, loudly (on stderr)."""
    if not a.config.targets:
        err.print(f"warning: {NO_TARGETS} ({a.config.source or 'no config'} has an empty [targets] table; "
                  f"add lines like tenacity = \">=9.1.2,<10\", or delete the table for every recipe's default)",
                  style="bold yellow")


def _print_json(obj: object) -> None:
    """JSON on stdout: indented for a person at a terminal, compact (and much faster) for a pipe."""
    indent = 2 if sys.stdout.isatty() else None
    sys.stdout.write(json.dumps(to_jsonable(obj), indent=indent) + "\n")


def _no_services(path: Path, skipped: tuple[tuple[str, str], ...] = ()) -> None:
    if skipped:
        out.print(f"No services found in {path}: every folder holding a manifest was passed over.")
        _print_skipped(skipped)
        return
    out.print(
        f"No services found in {path}: no folder there holds requirements*.txt, pyproject.toml, setup.cfg, setup.py "
        f"or Pipfile. Point fleetshift at the folder that contains your services, or list them in {CONFIG_NAME} "
        '([fleet] services = ["services/*"], or ["."] for the folder itself).'
    )


def _said_all(path: Path, a: Survey, record: object, as_json: bool) -> bool:
    """Whether a report command has said all it will: `record` as JSON when asked, or that there are no services."""
    if as_json:
        _print_json(record)
        return True
    if not a.fleet.services:
        _no_services(path, a.fleet.skipped)
        return True
    return False


@app.callback(invoke_without_command=True)
def _main(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        out.print(f"fleetshift {__version__}")
        raise typer.Exit(0)


@app.command()
def init(
    path: FleetArg,
    force: Annotated[bool, typer.Option("--force", help=f"Overwrite an existing {CONFIG_NAME}.")] = False,
) -> None:
    """Write a starter fleetshift.toml from what discovery finds, and print it: the services (kind, Pythons,
    locks, test command), the folders that are not services, and targets for the libraries in use."""
    from fleetshift.config import FleetConfig
    from fleetshift.discover import discover
    from fleetshift.scan import scan
    from fleetshift.starter import starter_config

    target = path / CONFIG_NAME
    if target.exists() and not force:
        raise fail(f"{target} already exists. Fix: edit it, or pass --force to replace it")
    config = FleetConfig(root=path.resolve(), targets=default_targets())
    fleet = _guarded(lambda: discover(path, config))
    if not fleet.services:
        _no_services(path, fleet.skipped)
        raise typer.Exit(0)
    inventory = _guarded(lambda: scan(fleet, config, use_cache=False))
    starter = _guarded(lambda: starter_config(path.resolve(), fleet, inventory))
    out.print(f"Found {len(fleet.services)} service(s) in {fleet.root}:")
    _print_projects([(s.name, s.path, s.project) for s in fleet.services])
    _print_skipped(fleet.skipped)
    if starter.targets:
        out.print("Targets written for: " + ", ".join(starter.targets))
    else:
        out.print("Nothing migratable found: no service uses a library a recipe migrates. "
                  "The recipes' default targets are in the file, commented out.")
    target.write_text(starter.text, encoding="utf-8")
    out.print(f"Wrote {target} (services = [{', '.join(starter.patterns)}]). Next: fleetshift scan {path}")


def _print_projects(items: list[tuple[str, str, Project]]) -> None:
    """The services as projects: kind, Pythons, locks, test command."""
    from fleetshift.report.planning import PROJECT_HEADER, project_rows

    table = Table(title="Projects", title_justify="left")
    table.add_column("folder")
    for col in PROJECT_HEADER:
        table.add_column(col)
    for (_, path, _), row in zip(items, project_rows([(name, p) for name, _, p in items]), strict=True):
        table.add_row(path or ".", *row)
    out.print(table)


def _print_skipped(skipped: tuple[tuple[str, str], ...]) -> None:
    if skipped:
        out.print(f"Not services (name them in [fleet] services of {CONFIG_NAME} to include them):")
        for folder, why in skipped:
            out.print(f"  {folder or '.'}: {why}")


@app.command("scan")
def scan_cmd(path: FleetArg, as_json: JsonOpt = False, no_cache: NoCacheOpt = False) -> None:
    """Who uses what: per service, its pins of the migrated libraries and every old-API usage site."""
    from fleetshift import quickscan

    # the fleet as it is before the scan reads it: the snapshot the next `scan --json` may answer from
    before = quickscan.state_before_scan(path.resolve()) if as_json and not no_cache else None
    a = _survey(path, use_cache=not no_cache)
    _say_no_targets(a)
    if as_json:
        quickscan.emit(a, before, use_cache=not no_cache)
        return
    if _said_all(path, a, a.inventory, as_json):
        return
    recipes = all_recipes()
    table = Table(title=f"fleetshift scan: {a.fleet.root}", caption="cell: pin · old-API usage sites (✓ = already on the target)")
    table.add_column("service")
    for r in recipes:
        table.add_column(r.id)
    for s in a.inventory.services:
        cells = [s.service + ("" if s.has_tests else " (no tests)")]
        for r in recipes:
            use = next((u for u in s.uses if u.recipe == r.id), None)
            n = sum(1 for x in s.sites if x.recipe == r.id and x.action is not Action.INFO)
            if use is None:
                cells.append("")
            else:
                pin = (use.package + " " if use.package != r.package else "") + (use.current or "unpinned")
                cells.append(f"{pin} ✓" if use.already_done else f"{pin} · {n}")
        table.add_row(*cells)
    out.print(table)
    _print_projects([(s.service, s.path, s.project) for s in a.inventory.services])
    _print_skipped(a.inventory.skipped)
    problems = list(a.inventory.findings) + [f for s in a.inventory.services for f in s.findings]
    for f in problems:
        out.print(f"{f.location()}: {f.rule}: {f.message}")
    for adv in a.inventory.advisories:
        out.print(f"advisory: {adv.message}")
    todo = sum(1 for s in a.inventory.services for u in s.uses if not u.already_done)
    out.print(f"{len(a.inventory.services)} services, {todo} migrations to do. Next: fleetshift plan {path}")


@app.command("plan")
def plan_cmd(
    path: FleetArg,
    as_json: JsonOpt = False,
    out_dir: Annotated[Path | None, typer.Option(
        "--out", help="Write the report files (Markdown, JSON and plan.html with the dependency graph) into this folder; "
                      "or, for a name ending in .html or .svg, only the page or the picture of the graph by phase.")] = None,
    no_cache: NoCacheOpt = False,
) -> None:
    """The risk-phased rollout: phases A-D, batches, order and the reason for each decision."""
    from fleetshift.report import write_plan_reports
    from fleetshift.report.html import write_plan_picture

    a = _analyse(path, use_cache=not no_cache)
    _say_no_targets(a)
    if out_dir is not None and out_dir.suffix.lower() in (".html", ".svg"):
        if not out_dir.parent.is_dir():
            raise fail(f"--out {out_dir}: the folder {out_dir.parent} does not exist. Fix: create it, or name another file")
        written = [write_plan_picture(out_dir, a.inventory, a.plan)]
        if not as_json:
            out.print("Reports written: " + ", ".join(str(p) for p in written))
    elif out_dir is not None:
        written = write_plan_reports(out_dir, a.inventory, a.plan)
        written.append(write_plan_picture(out_dir / "plan.html", a.inventory, a.plan))
        if not as_json:
            out.print("Reports written: " + ", ".join(str(p) for p in written))
    if _said_all(path, a, a.plan, as_json):
        return
    _print_projects([(s.service, s.path, s.project) for s in sorted(a.plan.services, key=lambda s: s.order)])
    _print_skipped(a.plan.skipped)
    for phase, services in a.plan.by_phase().items():
        table = Table(title=f"Phase {phase.value}", title_justify="left")
        for col in ("#", "service", "batch", "risk", "recipes", "why"):
            table.add_column(col)
        for s in services:
            table.add_row(str(s.order), s.service, str(s.batch), f"{s.risk} ({s.risk_score:g})", ", ".join(s.recipes) or "no-op",
                          "\n".join(r for r in s.reasons if not r.startswith("batch ")))
        out.print(table if services else f"Phase {phase.value}: no services")


@recipes_app.callback()
def recipes_list(ctx: typer.Context) -> None:
    """List the recipes: package, from -> to, and what each detects."""
    if ctx.invoked_subcommand:
        return
    table = Table(title="fleetshift recipes")
    for col in ("id", "package", "from", "to", "rules (auto / human / info)"):
        table.add_column(col)
    for r in all_recipes():
        src = f"{r.replaces} (any)" if r.replaces else f"{r.package}{r.migrates_from}"
        counts = [sum(1 for x in r.rules if x.action is a) for a in (Action.AUTO, Action.HUMAN, Action.INFO)]
        table.add_row(r.id, r.package, src, r.migrates_to, " / ".join(map(str, counts)))
    out.print(table)
    out.print("Details: fleetshift recipes show ID   ·   guide: fleetshift recipes guide ID > guide.md")


def _recipe(recipe_id: str) -> Recipe:
    from fleetshift.recipes import get

    try:
        return get(recipe_id)
    except RecipeError as exc:
        raise fail(str(exc)) from None


@recipes_app.command("show")
def recipes_show(recipe_id: Annotated[str, typer.Argument(help="Recipe id or package name.")]) -> None:
    """What one recipe changes automatically, what it flags for a human, with links."""
    from fleetshift.report.guide import recipe_summary

    out.print(recipe_summary(_recipe(recipe_id)), markup=False)


@recipes_app.command("guide")
def recipes_guide(recipe_id: Annotated[str, typer.Argument(help="Recipe id or package name.")]) -> None:
    """A Markdown migration guide generated from the recipe itself (print to stdout)."""
    from fleetshift.report.guide import recipe_guide

    sys.stdout.write(recipe_guide(_recipe(recipe_id)))



ServiceOpt = Annotated[list[str] | None, typer.Option("--service", "-s", help="Only this service (repeatable).")]
RecipeOpt = Annotated[list[str] | None, typer.Option("--recipe", "-r", help="Only this recipe (repeatable), e.g. tenacity.")]


def _check_choices(a: Survey, services: list[str] | None, recipes: list[str] | None) -> None:
    from fleetshift.recipes import get

    known = {s.name for s in a.fleet.services}
    for name in services or []:
        if name not in known:
            raise fail(f"no service named {name!r} in {a.fleet.root}; known: {', '.join(sorted(known))}")
    for rid in recipes or []:
        try:
            get(rid)
        except RecipeError as exc:
            raise fail(str(exc)) from None


PhaseOpt = Annotated[str, typer.Option("--phase", "-p", help="Which phases to run: a, b, c, d, a comma list (a,b) or all.")]


def _phases(value: str) -> tuple[Phase, ...]:
    if value.strip().lower() == "all":
        return tuple(Phase)
    try:
        return tuple(Phase(p.strip().upper()) for p in value.split(",") if p.strip())
    except ValueError:
        raise fail(f"--phase {value!r}: use a, b, c, d, a comma list like a,b, or all") from None


def _threshold(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.strip().rstrip("%")) / (100 if value.strip().endswith("%") else 1)
    except ValueError:
        number = -1
    if not 0 <= number <= 1:
        raise fail(f"--threshold {value!r}: use a fraction like 0.2 or a percentage like 20%")
    return number


def _approver() -> Callable[[str], bool] | None:
    from fleetshift.orchestrate import is_interactive

    if not is_interactive():
        return None
    return lambda service: typer.confirm(f"Phase D: migrate and verify critical service {service} now?", default=False)


def _finish(done: Finished) -> None:
    outcome = done.outcome
    out.print(outcome.message)
    out.print(f"Run {done.journal.run_id} ({outcome.status}). Reports: " + ", ".join(str(p) for p in done.reports))
    if done.branches:
        out.print(f"{len(done.branches)} branch(es) made; pull-request bodies in {done.journal.path / 'prs'} "
                  f"(print them with: fleetshift pr FLEET --run {done.journal.run_id})")
    for problem in done.git_problems:
        err.print(f"error: {problem}", style="bold red")
    from fleetshift.model import VerdictState

    # Exit 1 whenever a service is not proven by its tests (failed, or unverifiable whether rolled back or kept),
    # so CI notices; --no-verify's "applied, not verified" was asked for and exits 0.
    unproven = any(v.outcome in {VerdictState.FAILED, VerdictState.UNVERIFIABLE} for v in outcome.verdicts.values())
    if outcome.status is RunStatus.AWAITING_APPROVAL:
        raise typer.Exit(3)
    raise typer.Exit(1 if outcome.status in (RunStatus.FAILED, RunStatus.INTERRUPTED) or unproven or done.git_problems else 0)


KeepUnverifiedOpt = Annotated[bool, typer.Option(
    "--keep-unverified",
    help="Keep the migration of a service whose baseline (its tests on the old pins) could not run — usage error, "
         "import error, no tests, collection errors, timeout — instead of rolling it back; reports then say "
         "'unverifiable' (kept), never 'passed', and the run exits 1. A baseline that could not even be installed "
         "is never rewritten. Config: keep_unverified = true under [fleet] or [services.<name or path>].",
)]


ExecutorOpt = Annotated[str, typer.Option(
    "--executor",
    help="Where the services' tests run: 'local' (this machine, the default) or 'ray' (a Ray cluster: each baseline and "
         "run on the new pins is a Ray task; needs pip install 'fleetshift[ray]'). Rewrites, rollbacks and the journal "
         "stay here. Config: [run] executor.",
)]
RayAddressOpt = Annotated[str, typer.Option(
    "--ray-address",
    help="The Ray cluster: 'auto' (the one running here, e.g. after 'ray start --head'), 'ray://host:10001' (a remote "
         "one), or empty to start a local one. Config: [run] ray_address.",
)]
SharedFsOpt = Annotated[bool | None, typer.Option(
    "--shared-fs/--no-shared-fs",
    help="Every Ray node sees the fleet at the same path: services travel as paths, not as packed bytes. "
         "Config: [run] shared_filesystem.",
    show_default=False,
)]


def _executor_choice(executor: str) -> str:
    """The executor asked for, checked: exit 2 when unknown or when Ray is not installed."""
    from fleetshift.executors import EXECUTORS, RAY_MISSING, ray_available

    if executor and executor not in EXECUTORS:
        raise fail(f"unknown executor {executor!r}; use one of: {', '.join(EXECUTORS)}")
    if executor == "ray" and not ray_available():
        raise fail(RAY_MISSING)
    return executor


@app.command("run")
def run_cmd(
    path: FleetArg,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan's changes as unified diffs; write nothing, install nothing.")] = False,
    phase: PhaseOpt = "all",
    service: ServiceOpt = None,
    recipe: RecipeOpt = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Services verified at once within a batch (default: cores, or [fleet] jobs).")] = 0,
    threshold: Annotated[str | None, typer.Option("--threshold", help="Failure share that stops a phase and rolls it back (default 20%).")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="No approval prompts (phase D, --no-verify). Needed without a terminal.")] = False,
    no_verify: Annotated[bool, typer.Option("--no-verify", help="Apply the rewrites without running the services' tests.")] = False,
    todo_comments: Annotated[bool, typer.Option("--todo-comments", help="Insert '# fleetshift: TODO[rule-id] ...' above every flagged line.")] = False,
    keep_unverified: KeepUnverifiedOpt = False,
    use_git: Annotated[bool, typer.Option(
        "--git", help="Commit each kept service on its own branch fleetshift/<run-id>/<service> from the current commit, "
                      "working in a separate git worktree: your branch, index and working tree are never touched "
                      "(on by default with [git] enabled = true).")] = False,
    allow_dirty: Annotated[bool, typer.Option(
        "--allow-dirty", help="With git: start even with uncommitted changes (they are not part of the branches).")] = False,
    push: Annotated[bool, typer.Option(
        "--push", help="With git or a multi-repo fleet: push the branches to origin with your git credentials, then "
                       "run [git] pr_command per branch.")] = False,
    executor: ExecutorOpt = "",
    ray_address: RayAddressOpt = "",
    shared_fs: SharedFsOpt = None,
) -> None:
    """Migrate the fleet phase by phase: baseline tests, rewrite (journaled), tests on the new pins, roll back what breaks.

    Each service is tested before (old pins) and after (new pins) in isolated uv environments, with its own
    test command; a service whose tests regress, or whose health check or hooks fail, is rolled back alone.
    A phase over the failure threshold is rolled back and the run stops. Ctrl-C stops safely: `fleetshift
    resume` continues.

    Verdicts: passed (the tests ran on both sides, no regression); unverifiable (the baseline could not run:
    not applied, or kept with --keep-unverified; exit 1); applied, not verified (--no-verify); failed (rolled
    back; exit 1); no-op; skipped.
    """
    from fleetshift import forked

    phases = _phases(phase)
    limit = _threshold(threshold)
    git_start = _git_start(path, dry_run, use_git, allow_dirty, push)
    ahead = Selection(phases, tuple(service or ()), tuple(recipe or ())) if git_start is None else None
    with forked.meanwhile(_run_modules):
        a = _analyse(path, pins_ahead=ahead)  # a git run rewrites (and asks) in its worktree
    from fleetshift.orchestrate import RunOptions
    from fleetshift.rewrite import RewriteOptions, rewrite_fleet
    from fleetshift.runner import start_run

    try:
        if not dry_run and not no_verify:
            _executor_choice(executor or a.config.executor)
        _say_no_targets(a)
        _check_choices(a, service, recipe)
        selection = Selection(phases, tuple(service or ()), tuple(recipe or ()))
        if dry_run:
            options = RewriteOptions(selection, todo_comments)
            from fleetshift.report.changes import print_changesets

            print_changesets(out, rewrite_fleet(a.fleet, a.plan, a.config, options))
            return
        if no_verify and not yes:
            from fleetshift.orchestrate import is_interactive

            if not is_interactive():
                raise fail("--no-verify applies changes without testing them and there is no terminal to approve it. "
                           "Fix: review with --dry-run, then pass --yes")
            if not typer.confirm("Apply the rewrites WITHOUT running the services' tests?", default=False):
                raise typer.Exit(1)
        if not no_verify:  # every service's Python must be here before anything is written
            from dataclasses import replace as _replace

            from fleetshift.verify.pythons import preflight

            chosen = {s.service for s in selection.services_of(a.plan)}
            problems = preflight(_replace(a.fleet, services=tuple(s for s in a.fleet.services if s.name in chosen)), a.config)
            if problems:
                raise fail("nothing was changed; " + "\n".join(problems))
        options = RunOptions(phases, tuple(service or ()), tuple(recipe or ()), jobs, limit, yes, not no_verify, todo_comments,
                             keep_unverified=keep_unverified, executor=executor, ray_address=ray_address, shared_fs=shared_fs,
                             push=push)
        from fleetshift.journal import FleetLocked, JournalError

        try:
            done = start_run(a, options, out, approve=None if yes else _approver(), git=git_start)
        except (FleetLocked, JournalError) as exc:
            raise fail(str(exc)) from None
        if push and done.branches:
            done = _push(done, a)
        _finish(done)
    finally:  # the process asking the pin questions ahead ends with the command, however it ends
        from fleetshift import pinsahead

        pinsahead.stop()


def _run_modules() -> None:
    """What `run` needs only once the fleet is analysed, imported while the child of the analysis's first share works
    (`forked.meanwhile`), instead of before the fleet is read: the plan's graph library, the campaign, and the
    rewrites' modules (`rewrite.warm`), once, for the rewrite workers forked from this process to inherit."""
    import networkx  # noqa: F401

    import fleetshift.runner  # noqa: F401
    from fleetshift.rewrite import warm

    warm()


def _git_start(path: Path, dry_run: bool, use_git: bool, allow_dirty: bool, push: bool) -> GitStart | None:
    """Whether `run` works in git, decided (and the tree checked) before anything is read or written: the
    monorepo's start commit, or None (a multi-repo fleet's clones are fetched here; they are always git)."""
    from fleetshift.config import load_config
    from fleetshift.gitops import toplevel
    from fleetshift.gitrun import check_start

    root = path.resolve()
    config = _guarded(lambda: load_config(root)) if root.is_dir() else None
    if config is not None and config.repos:
        from fleetshift.workspace import sync

        if not dry_run:
            _guarded(lambda: sync(root, config, fetch=True, say=out.print))
        return None
    wanted = use_git or (config is not None and config.git.enabled and toplevel(root) is not None)
    if not wanted:
        if push:
            raise fail("--push needs a git run: pass --git (or set [git] enabled = true, or [fleet] repos)")
        return None
    if dry_run:
        return None
    start = _guarded(lambda: check_start(root, allow_dirty))
    if start.dirty:
        err.print(f"warning: --allow-dirty: the uncommitted changes ({', '.join(start.dirty[:10])}"
                  f"{' ...' if len(start.dirty) > 10 else ''}) are not part of the branches; the run starts from "
                  f"commit {start.start[:12]}", style="bold yellow")
    return start


def _push(done: Finished, a: Analysis) -> Finished:
    from dataclasses import replace as _replace

    from fleetshift.gitops import GitRecord
    from fleetshift.gitrun import push

    record = GitRecord.load(done.journal.path)
    if record is None:
        return done
    problems = push(record, done.journal.path, a.config, out.print)
    return _replace(done, git_problems=done.git_problems + tuple(problems))


@app.command("resume")
def resume_cmd(
    path: FleetArg,
    run: Annotated[str | None, typer.Option("--run", help="The run to continue (default: the latest).")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="No approval prompts from here on.")] = False,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Override the run's --jobs.")] = 0,
    keep_unverified: KeepUnverifiedOpt = False,
    executor: Annotated[str, typer.Option("--executor", help="Override the run's executor ('local' or 'ray').")] = "",
    ray_address: RayAddressOpt = "",
    shared_fs: SharedFsOpt = None,
    push: Annotated[bool, typer.Option(
        "--push", help="A git run's branches are pushed to origin when it finishes (a run started with --push "
                       "pushes on resume without it).")] = False,
) -> None:
    """Continue an interrupted run from its last completed step; finished services are never redone."""
    from fleetshift.journal import JournalError
    from fleetshift.runner import resume_run

    _executor_choice(executor)
    where = {k: v for k, v in {"executor": executor, "ray_address": ray_address, "shared_fs": shared_fs}.items()
             if v not in ("", None)}  # fmt: skip
    try:
        done = resume_run(path.resolve(), out, run, approve=None if yes else _approver(), yes=yes, jobs=jobs or None,
                          keep_unverified=keep_unverified or None, where=where)
    except (JournalError, ConfigError, DiscoveryError) as exc:
        raise fail(str(exc)) from None
    if done.branches and (push or done.journal.state()["meta"].get("push")):
        done = _push(done, _analyse(path))
    _finish(done)


@app.command("status")
def status_cmd(
    path: FleetArg,
    run: Annotated[str | None, typer.Option("--run", help="Which run (default: the latest).")] = None,
    watch: Annotated[bool, typer.Option("--watch", "-w", help="Keep refreshing until the run stops.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Where the current or last run stands: per service its phase, status and current step."""

    from fleetshift.journal import Journal, JournalError
    from fleetshift.progress import state_table, watch_run

    try:
        journal = Journal.open(path.resolve(), run)
    except JournalError as exc:
        raise fail(str(exc)) from None
    if as_json:
        from fleetshift.report.results import build_results

        _print_json(build_results(journal.path))
        return
    if not watch:
        out.print(state_table(journal.state()))
        return
    from fleetshift.journal import fleet_lock_held

    root = path.resolve()
    gone = (f"run {journal.run_id} stopped without finishing: no fleetshift process works on {root} any more "
            f"(killed?). Continue it with: fleetshift resume {root} — or undo it with: "
            f"fleetshift rollback {root} --run {journal.run_id}")
    if not watch_run(out, journal.state, alive=lambda: fleet_lock_held(root), gone=gone):
        raise typer.Exit(1)


@app.command("check")
def check_cmd(
    path: FleetArg,
    as_json: JsonOpt = False,
    service: ServiceOpt = None,
    recipe: RecipeOpt = None,
) -> None:
    """Lint mode: list old-API sites still in the fleet as 'file:line rule-id message'; exit 1 if any (a CI gate).

    A site is silenced by a '# fleetshift: ignore[rule-id]' comment on its line.
    """
    a = _survey(path)
    _say_no_targets(a)
    _check_choices(a, service, recipe)
    from fleetshift.recipes import get

    wanted = {get(r).id for r in recipe or []}
    targeted = {r.id for r in all_recipes() if r.package in a.config.targets}  # as `run` reads [targets]
    sites = [
        s for inv in a.inventory.services if Selection(services=tuple(service or ())).wants(inv.service)
        for s in inv.sites
        if s.action is not Action.INFO and (not wanted or s.recipe in wanted) and s.recipe in targeted
    ]
    if as_json:
        _print_json(sites)
    else:
        for s in sites:
            out.print(f"{s.file}:{s.line}:{s.col + 1} {s.rule} [{s.action.value}] {s.detail}")
        out.print(f"{len(sites)} site(s) left." if sites else "No old-API sites left.")
    raise typer.Exit(1 if sites else 0)


@app.command("rollback")
def rollback_cmd(
    path: FleetArg,
    run: Annotated[str | None, typer.Option("--run", help="The run to undo (default: the latest).")] = None,
    service: Annotated[str | None, typer.Option("--service", "-s", help="Only this service.")] = None,
    recipe: Annotated[str | None, typer.Option("--recipe", "-r", help="Only files changed by this recipe alone.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Also overwrite files edited by hand since the run.")] = False,
) -> None:
    """Restore the exact bytes every file had before a run; refuses to clobber files edited since (names them)."""
    from fleetshift.gitops import GitRecord
    from fleetshift.journal import FleetLock, Journal, JournalError

    try:
        journal = Journal.open(path.resolve(), run)
        record = GitRecord.load(journal.path)
        with FleetLock.acquire(path.resolve(), "rollback", journal.run_id) as lock:
            if lock.message:
                err.print(lock.message)
            if record is not None:
                _git_rollback(journal, record, service, recipe)
                return
            report = journal.rollback(service=service, recipe=recipe, force=force)
    except (JournalError, GitError) as exc:
        raise fail(str(exc)) from None
    for rel in report.restored:
        out.print(f"restored {rel}")
    for rel in report.removed:
        out.print(f"removed {rel} (created by the run)")
    for rel, why in report.skipped:
        out.print(f"skipped {rel}: {why}")
    for rel in report.conflicts:
        err.print(f"refused {rel}: changed by hand since run {journal.run_id}; keep your edit, or pass --force to restore the original")
    out.print(f"Run {journal.run_id}: {len(report.restored)} restored, {len(report.removed)} removed, {len(report.conflicts)} refused.")
    raise typer.Exit(1 if report.conflicts else 0)


def _git_rollback(journal: Journal, record: GitRecord, service: str | None, recipe: str | None) -> None:
    """A git run changed no file of yours: its rollback deletes exactly the branches and worktrees it created."""
    from fleetshift.gitrun import rollback

    if recipe is not None:
        raise fail(f"run {journal.run_id} made git branches: it is undone per run or per service (--service), not per recipe")
    done = rollback(record, journal.path, service)
    for branch in done.deleted:
        out.print(f"deleted branch {branch}")
    for where in done.worktrees:
        out.print(f"removed worktree {where}")
    for branch, why in done.kept:
        err.print(f"kept branch {branch}: {why}")
    for repo, branch in done.pushed:  # a pushed branch may carry an open pull request: a person deletes it
        out.print(f"pushed earlier, left on the remote: {branch} (delete it with: git -C {repo} push origin --delete {branch})")
    if service is None and not done.kept:
        journal.set_status(RunStatus.ROLLED_BACK)
    out.print(f"Run {journal.run_id}: {len(done.deleted)} branch(es) deleted, {len(done.worktrees)} worktree(s) removed, "
              f"{len(done.kept)} kept; no file of your working tree was touched.")
    raise typer.Exit(1 if done.kept else 0)


@app.command("pr")
def pr_cmd(
    path: FleetArg,
    run: Annotated[str | None, typer.Option("--run", help="Which run (default: the latest).")] = None,
    write: Annotated[Path | None, typer.Option("--write", help="Write the bodies into this folder instead of printing them.")] = None,
) -> None:
    """The pull-request bodies of a git run, one per branch (Markdown): print them, or write them to a folder."""
    import shutil

    from fleetshift.gitrun import pr_bodies
    from fleetshift.journal import Journal, JournalError

    try:
        journal = Journal.open(path.resolve(), run)
    except JournalError as exc:
        raise fail(str(exc)) from None
    bodies = pr_bodies(journal.path)
    if not bodies:
        raise fail(f"run {journal.run_id} made no branches (not a git run, or no service's change was kept); "
                   f"start one with: fleetshift run {path} --git", 1)
    if write is not None:
        write.mkdir(parents=True, exist_ok=True)
        for body in bodies:
            shutil.copyfile(body, write / body.name)
            out.print(f"wrote {write / body.name}")
        return
    for body in bodies:
        out.rule(body.stem)
        sys.stdout.write(body.read_text("utf-8"))
        sys.stdout.flush()


@app.command("wizard")
def wizard_cmd(
    path: Annotated[Path, typer.Argument(help="The fleet (default: this folder).", show_default=False)] = Path("."),
    recipe: Annotated[list[str] | None, typer.Option(
        "--recipe", "-r", help="A migration to run (repeatable; 'none' for none). Default: every one the fleet needs.")] = None,
    target: Annotated[list[str] | None, typer.Option(
        "--target", "-t", help="Where a package should end up, as PACKAGE=SPEC (repeatable), e.g. 'tenacity=>=9.1.2,<10'. "
                               "Default: fleetshift.toml's target, else the recipe's.")] = None,
    diff: Annotated[list[str] | None, typer.Option(
        "--diff", help="Show the dry-run diff of this service (repeatable; 'all' for every one). Default: none.")] = None,
    write_config: Annotated[bool | None, typer.Option(
        "--write-config/--no-write-config", help=f"Write {CONFIG_NAME} with the chosen targets (replaces only its [targets] "
                                                 "when it exists). Default: yes when there is none, else no.",
        show_default=False)] = None,
    start: Annotated[bool | None, typer.Option(
        "--start-phase-a/--no-start", help="Start phase A (the canaries) at the end. Default: no.", show_default=False)] = None,
    verify: Annotated[bool | None, typer.Option(
        "--verify/--no-verify", help="When phase A starts, test each service before and after (default: yes).",
        show_default=False)] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Ask nothing: take the default of every question no flag answers.")] = False,
) -> None:
    """A guided first run: what the fleet holds, which migrations to which targets, the plan, the diffs,
    fleetshift.toml, and phase A. Every question has a flag; the commands that do the same without questions
    are printed at the end. Without a terminal it needs --yes, or --write-config/--no-write-config and
    --start-phase-a/--no-start."""
    from fleetshift.journal import JournalError
    from fleetshift.orchestrate import is_interactive
    from fleetshift.wizard import Answers, Wizard, WizardError, refusal

    if not path.is_dir():
        raise fail(f"{path} is not a folder. Fix: name the folder that holds your services")
    recipes = None if recipe is None else tuple(r for r in recipe if r.lower() != "none")
    answers = Answers(recipes, dict(t.split("=", 1) if "=" in t else (t, "") for t in target or ()),
                      None if diff is None else tuple(diff), write_config, start, verify, yes)
    interactive = is_interactive()
    if not interactive and not answers.complete():
        err.print("error: fleetshift wizard asks its questions on a terminal, and there is none (standard input is not "
                  "a terminal).", style="bold red")
        for line in refusal(path):
            out.print(line)
        raise typer.Exit(2)
    wizard = Wizard(path, out, answers, interactive)
    try:
        done = wizard.run()
    except (WizardError, ConfigError, DiscoveryError, RecipeError, JournalError) as exc:
        raise fail(str(exc)) from None
    except (KeyboardInterrupt, EOFError):
        err.print("\nwizard stopped; nothing was written after the last step it reported.")
        raise typer.Exit(130) from None
    if done is not None:
        _finish(done)


def demo_fleet() -> Path:
    """The bundled demo fleet (from the source tree, or the copy shipped inside the wheel)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_demo" / "homeiq", here.parents[1] / "examples" / "homeiq"):
        if (candidate / "fleetshift.toml").is_file():
            return candidate
    raise fail("the demo fleet is not installed with this copy of fleetshift (examples/homeiq is missing)")


@app.command()
def demo(
    workdir: Annotated[Path | None, typer.Option("--dir", help="Copy the demo fleet here instead of a new temporary folder.")] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Services verified at once (default: cores).")] = 0,
    use_git: Annotated[bool, typer.Option("--git", help="Make the copy a git repository and run with --git: a branch "
                                          "and pull-request body per service.")] = False,
    multi_repo: Annotated[bool, typer.Option("--multi-repo", help="Split the copy into three repositories behind local "
                                             "bare remotes, run them as one multi-repo fleet and --push the branches.")] = False,
    no_verify: Annotated[bool, typer.Option("--no-verify", help="Apply the rewrites without running the tests (fast).")] = False,
) -> None:
    """Copy the bundled demo fleet (examples/homeiq) to a temporary folder and run the whole verified campaign on it
    (as a git monorepo with --git, or as a fleet of three repositories with --multi-repo)."""
    import shutil
    import tempfile

    from fleetshift.orchestrate import RunOptions
    from fleetshift.report import write_plan_reports
    from fleetshift.runner import start_run

    base = workdir or Path(tempfile.mkdtemp(prefix="fleetshift-demo-"))
    fleet_dir = base / "homeiq"
    if fleet_dir.exists():
        raise fail(f"{fleet_dir} already exists; pass another --dir or remove it")
    shutil.copytree(demo_fleet(), fleet_dir, ignore=shutil.ignore_patterns(".fleetshift", "__pycache__", ".pytest_cache", ".venv"))
    out.print(f"Demo fleet copied to {fleet_dir}")
    git_start = None
    if multi_repo:
        from fleetshift.demorepos import multirepo

        fleet_dir = _guarded(lambda: multirepo(fleet_dir, base))
        out.print(f"Demo repositories: {base / 'remotes'} (bare, local); the fleet listing them: {fleet_dir}")
    elif use_git:
        from fleetshift.demorepos import monorepo
        from fleetshift.gitrun import check_start

        _guarded(lambda: monorepo(fleet_dir))
        git_start = _guarded(lambda: check_start(fleet_dir, False))
    a = _analyse(fleet_dir)
    plan_reports = write_plan_reports(fleet_dir / ".fleetshift" / "plan-reports", a.inventory, a.plan)
    todo = sum(1 for s in a.inventory.services for u in s.uses if not u.already_done)
    out.print(f"scan: {len(a.fleet.services)} services, {todo} migrations to do")
    for phase, services in a.plan.by_phase().items():
        out.print(f"plan: phase {phase.value}: " + (", ".join(s.service for s in services) or "-"))
    out.print(f"plan reports: {plan_reports[0].parent}")
    done = start_run(a, RunOptions(jobs=jobs, yes=True, verify=not no_verify), out, git=git_start)
    if multi_repo and done.branches:
        done = _push(done, a)
    _finish(done)


def main() -> None:
    """Console entry point."""
    from fleetshift import cliparams
    from fleetshift.gcpolicy import raise_thresholds

    raise_thresholds()  # see fleetshift.gcpolicy: inherited by the forked scan and rewrite workers
    cliparams.install()
    try:
        app()
    except BrokenPipeError:  # `fleetshift scan --json | head`: the reader left; that is not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)


if __name__ == "__main__":
    main()
