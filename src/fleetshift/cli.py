"""The command line: parses options, calls the stages, renders. No migration logic lives here.

Exit codes: 0 success; 1 the command ran and found problems (check found old API, a run had failures);
2 the command could not run (bad path, bad config, bad option).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from fleetshift import __version__
from fleetshift.config import CONFIG_NAME, ConfigError, default_targets
from fleetshift.discover import DiscoveryError
from fleetshift.model import Action, to_jsonable
from fleetshift.recipes import RecipeError, all_recipes

app = typer.Typer(
    name="fleetshift",
    help=(
        "Upgrade a whole fleet of Python services across breaking library releases, and prove each "
        "service still works before keeping the change.\n\n"
        "Typical session: `fleetshift scan FLEET` (who uses what), `fleetshift plan FLEET --out reports/` "
        "(risk-phased rollout), `fleetshift run FLEET --dry-run` (diffs), `fleetshift run FLEET` "
        "(rewrite, verify, roll back what breaks), `fleetshift check FLEET` (what is left)."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
recipes_app = typer.Typer(help="The recipe catalogue: what each recipe detects, changes and flags.", invoke_without_command=True)
app.add_typer(recipes_app, name="recipes")

out = Console(highlight=False, soft_wrap=True, markup=False, width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)

FleetArg = Annotated[Path, typer.Argument(help="The fleet: a folder holding the services (a monorepo).", show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout instead of a table.")]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="Ignore and do not write the scan cache in .fleetshift/cache/.")]


def fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"error: {message}", style="bold red")
    return typer.Exit(code)


def _analyse(path: Path, *, use_cache: bool = True):
    from fleetshift.pipeline import analyse

    try:
        return analyse(path, use_cache=use_cache)
    except (ConfigError, DiscoveryError, RecipeError) as exc:
        raise fail(str(exc)) from None


def _print_json(obj: object) -> None:
    sys.stdout.write(json.dumps(to_jsonable(obj), indent=2) + "\n")


def _no_services(path: Path) -> None:
    out.print(
        f"No services found in {path}: no folder there holds requirements*.txt, pyproject.toml, setup.cfg or Pipfile. "
        f"Point fleetshift at the folder that contains your services, or list them in {CONFIG_NAME} "
        '([fleet] services = ["services/*"]).'
    )


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
    """Write a starter fleetshift.toml from what discovery finds (services, and targets for the libraries in use)."""
    from fleetshift.config import FleetConfig
    from fleetshift.discover import discover

    target = path / CONFIG_NAME
    if target.exists() and not force:
        raise fail(f"{target} already exists. Fix: edit it, or pass --force to replace it")
    try:
        fleet = discover(path, FleetConfig(root=path.resolve(), targets=default_targets()))
    except DiscoveryError as exc:
        raise fail(str(exc)) from None
    if not fleet.services:
        _no_services(path)
        raise typer.Exit(0)
    parents = sorted({s.path.rsplit("/", 1)[0] + "/*" if "/" in s.path else s.path for s in fleet.services})
    used = {p.package for s in fleet.services for p in s.pins}
    lines = [
        "# fleetshift campaign configuration. `fleetshift --help` explains every command.",
        "[fleet]",
        "services = [" + ", ".join(json.dumps(p) for p in parents) + "]",
        "critical = []          # services that run last, one at a time, e.g. [\"billing\"]",
        "batch_size = 5",
        "failure_threshold = \"20%\"",
        "",
        "# Where each migrated package should end up (PEP 440 specifiers).",
        "[targets]",
    ]
    for name, t in default_targets().items():
        if name in used or (t.replaces and t.replaces in used):
            value = json.dumps(t.spec) if not t.replaces else f'{{ spec = {json.dumps(t.spec)}, replaces = "{t.replaces}" }}'
            lines.append(f"{name} = {value}")
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out.print(f"Wrote {target} ({len(fleet.services)} services). Next: fleetshift scan {path}")


@app.command("scan")
def scan_cmd(path: FleetArg, as_json: JsonOpt = False, no_cache: NoCacheOpt = False) -> None:
    """Who uses what: per service, its pins of the migrated libraries and every old-API usage site."""
    a = _analyse(path, use_cache=not no_cache)
    if as_json:
        _print_json(a.inventory)
        return
    if not a.fleet.services:
        _no_services(path)
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
    out_dir: Annotated[Path | None, typer.Option("--out", help="Write the report files (Markdown and JSON) into this folder.")] = None,
    no_cache: NoCacheOpt = False,
) -> None:
    """The risk-phased rollout: phases A-D, batches, order and the reason for each decision."""
    from fleetshift.report import write_plan_reports

    a = _analyse(path, use_cache=not no_cache)
    if out_dir is not None:
        written = write_plan_reports(out_dir, a.inventory, a.plan)
        if not as_json:
            out.print("Reports written: " + ", ".join(str(p) for p in written))
    if as_json:
        _print_json(a.plan)
        return
    if not a.fleet.services:
        _no_services(path)
        return
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


@recipes_app.command("show")
def recipes_show(recipe_id: Annotated[str, typer.Argument(help="Recipe id or package name.")]) -> None:
    """What one recipe changes automatically, what it flags for a human, with links."""
    from fleetshift.recipes import get
    from fleetshift.report.guide import recipe_summary

    try:
        recipe = get(recipe_id)
    except RecipeError as exc:
        raise fail(str(exc)) from None
    out.print(recipe_summary(recipe), markup=False)


@recipes_app.command("guide")
def recipes_guide(recipe_id: Annotated[str, typer.Argument(help="Recipe id or package name.")]) -> None:
    """A Markdown migration guide generated from the recipe itself (print to stdout)."""
    from fleetshift.recipes import get
    from fleetshift.report.guide import recipe_guide

    try:
        recipe = get(recipe_id)
    except RecipeError as exc:
        raise fail(str(exc)) from None
    sys.stdout.write(recipe_guide(recipe))



ServiceOpt = Annotated[list[str] | None, typer.Option("--service", "-s", help="Only this service (repeatable).")]
RecipeOpt = Annotated[list[str] | None, typer.Option("--recipe", "-r", help="Only this recipe (repeatable), e.g. tenacity.")]


def _check_choices(a, services: list[str] | None, recipes: list[str] | None) -> None:
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


@app.command("run")
def run_cmd(
    path: FleetArg,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print every change as a unified diff and write nothing.")] = False,
    no_verify: Annotated[bool, typer.Option("--no-verify", help="Apply the rewrites without running the services' tests.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for approval (needed when there is no terminal).")] = False,
    service: ServiceOpt = None,
    recipe: RecipeOpt = None,
    todo_comments: Annotated[bool, typer.Option("--todo-comments", help="Insert '# fleetshift: TODO[rule-id] ...' above every flagged line.")] = False,
) -> None:
    """Rewrite the fleet: code, tests, config and pins. Every file is backed up in .fleetshift/runs/ before it is written."""
    from fleetshift.orchestrate import apply_changes
    from fleetshift.rewrite import RewriteOptions, rewrite_fleet, unified_diff

    a = _analyse(path)
    _check_choices(a, service, recipe)
    options = RewriteOptions(tuple(service or ()), tuple(recipe or ()), todo_comments)
    changesets = rewrite_fleet(a.fleet, a.plan, a.config, options)
    n_files = sum(len(c.changes) for c in changesets)
    if dry_run:
        for cs in changesets:
            if not cs.changes and not cs.findings:
                continue
            out.rule(f"{cs.service}: {', '.join(cs.recipes) or 'no-op'}")
            for change in cs.changes:
                sys.stdout.write(unified_diff(change))
            for f in cs.findings:
                out.print(f"{f.location()}: {f.rule}: {f.message}")
        out.print(f"dry run: {n_files} file(s) would change in {sum(1 for c in changesets if c.changes)} service(s); nothing was written.")
        return
    if not no_verify:
        raise fail("verification of the new pins is not available in this version; pass --no-verify to apply without it, "
                   "or --dry-run to see the diffs")
    if n_files == 0:
        out.print("Nothing to change.")
        return
    if not yes:
        if not sys.stdin.isatty():
            raise fail(f"{n_files} file(s) would change and there is no terminal to approve it. Fix: review with --dry-run, then pass --yes")
        if not typer.confirm(f"Apply {n_files} change(s) to {sum(1 for c in changesets if c.changes)} service(s)?"):
            raise typer.Exit(1)
    journal = apply_changes(Path(a.fleet.root), changesets, {"command": "run", "no_verify": True})
    findings = [f for cs in changesets for f in cs.findings]
    for f in findings:
        out.print(f"{f.location()}: {f.rule}: {f.message}")
    out.print(f"Applied {n_files} change(s); run {journal.run_id}. {len(findings)} finding(s) left for a human. "
              f"Undo with: fleetshift rollback {path} --run {journal.run_id}")


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
    a = _analyse(path)
    _check_choices(a, service, recipe)
    from fleetshift.recipes import get

    wanted = {get(r).id for r in recipe or []}
    sites = [
        s for inv in a.inventory.services if not service or inv.service in service
        for s in inv.sites
        if s.action is not Action.INFO and (not wanted or s.recipe in wanted)
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
    from fleetshift.journal import Journal, JournalError

    try:
        journal = Journal.open(path.resolve(), run)
        report = journal.rollback(service=service, recipe=recipe, force=force)
    except JournalError as exc:
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
) -> None:
    """Copy the bundled demo fleet (examples/homeiq) to a temporary folder and run the whole campaign on it."""
    import shutil
    import tempfile

    from fleetshift.orchestrate import apply_changes
    from fleetshift.report import write_plan_reports
    from fleetshift.rewrite import rewrite_fleet

    base = workdir or Path(tempfile.mkdtemp(prefix="fleetshift-demo-"))
    fleet_dir = base / "homeiq"
    if fleet_dir.exists():
        raise fail(f"{fleet_dir} already exists; pass another --dir or remove it")
    shutil.copytree(demo_fleet(), fleet_dir, ignore=shutil.ignore_patterns(".fleetshift", "__pycache__", ".pytest_cache", ".venv"))
    out.print(f"Demo fleet copied to {fleet_dir}")
    a = _analyse(fleet_dir)
    reports = fleet_dir / "reports"
    write_plan_reports(reports, a.inventory, a.plan)
    todo = [(s.service, u.recipe) for s in a.inventory.services for u in s.uses if not u.already_done]
    out.print(f"scan: {len(a.fleet.services)} services, {len(todo)} migrations to do")
    for phase, services in a.plan.by_phase().items():
        out.print(f"plan: phase {phase.value}: " + (", ".join(s.service for s in services) or "-"))
    changesets = rewrite_fleet(a.fleet, a.plan, a.config)
    journal = apply_changes(fleet_dir, changesets, {"command": "demo"})
    n_files = sum(len(c.changes) for c in changesets)
    findings = [f for c in changesets for f in c.findings]
    out.print(f"run {journal.run_id}: {n_files} files rewritten, {len(findings)} findings for a human")
    after = _analyse(fleet_dir)
    left = [x for s in after.inventory.services for x in s.sites if x.action is Action.AUTO]
    out.print(f"check: {len(left)} automatic site(s) left")
    out.print(f"Reports: {reports}")


def main() -> None:
    """Console entry point."""
    app()


if __name__ == "__main__":
    main()
