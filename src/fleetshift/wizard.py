"""`fleetshift wizard`: a guided first run in the terminal, built from the same stages as the other commands.

It discovers the fleet and shows what it found, asks which migrations to run and to which targets, shows the
risk-phased plan, shows dry-run diffs on request, offers to write fleetshift.toml (with comments) and to start
phase A. Every question has a flag; the answers it was given are printed at the end as the commands that
do the same without questions.
"""

from __future__ import annotations

import shlex
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import tomlkit
from rich.console import Console
from rich.prompt import Confirm, Prompt
from rich.table import Table

from fleetshift.config import CONFIG_NAME, ConfigError, FleetConfig, Target, default_targets, parse_config
from fleetshift.model import Inventory, Phase, Selection
from fleetshift.pipeline import Analysis, Survey, plan_with_projects, survey, with_projects
from fleetshift.recipes import RecipeError, all_recipes, get
from fleetshift.recipes.base import Recipe

if TYPE_CHECKING:
    from fleetshift.runner import Finished


class WizardError(Exception):
    """An answer (a flag) that cannot be used; the message names it and the fix."""


@dataclass(frozen=True)
class Answers:
    """The answers given as flags; None means "ask" (or take the default with `yes`)."""

    recipes: tuple[str, ...] | None = None
    targets: Mapping[str, str] = field(default_factory=dict)  # package or recipe id -> specifier
    diffs: tuple[str, ...] | None = None  # services whose dry-run diff to show ("all" for every one)
    write_config: bool | None = None
    start: bool | None = None
    verify: bool | None = None
    yes: bool = False

    def complete(self) -> bool:
        """Enough to run without a terminal: every default accepted, or the two decisions that act given."""
        return self.yes or (self.write_config is not None and self.start is not None)


@dataclass
class Choices:
    """What the wizard settled on, to act on and to print as commands."""

    recipes: list[str] = field(default_factory=list)
    targets: dict[str, str] = field(default_factory=dict)  # recipe id -> specifier
    diffs: list[str] = field(default_factory=list)
    write_config: bool = False
    start: bool = False
    verify: bool = True
    default_recipes: list[str] = field(default_factory=list)  # what Enter (or --yes) picks
    default_targets: dict[str, str] = field(default_factory=dict)  # recipe id -> what Enter picks
    configured: list[str] = field(default_factory=list)  # recipe ids the config on disk targets


def parse_targets(values: Sequence[str]) -> dict[str, str]:
    """`--target pkg=spec` values as recipe id -> specifier (the package or the recipe id may be named)."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    out: dict[str, str] = {}
    for value in values:
        name, sep, spec = value.partition("=")
        if spec.startswith("="):  # pkg==1.2: the first "=" is part of the specifier
            spec = "=" + spec
        if not sep or not name.strip() or not spec.strip():
            raise WizardError(f"--target {value!r}: write it as PACKAGE=SPEC, e.g. --target 'tenacity=>=9.1.2,<10'")
        try:
            recipe = get(name.strip())
        except RecipeError:
            raise WizardError(f"--target {value!r}: no recipe migrates {name.strip()!r}; see `fleetshift recipes`") from None
        spec = spec.strip()
        if spec[0].isdigit():
            spec = "==" + spec
        try:
            SpecifierSet(spec)
        except InvalidSpecifier:
            raise WizardError(f"--target {value!r}: {spec!r} is not a version specifier (e.g. >=9.1.2,<10)") from None
        out[recipe.id] = spec
    return out


class Wizard:
    """One guided first run over the fleet at `root`, asking on `console` what `answers` leaves open."""

    def __init__(self, root: Path, console: Console, answers: Answers, interactive: bool) -> None:
        self.root = root
        self.console = console
        self.answers = answers
        self.interactive = interactive and not answers.yes
        self.choices = Choices()

    # ---- asking ---------------------------------------------------------------------------------

    def _confirm(self, question: str, given: bool | None, default: bool) -> bool:
        if given is not None:
            self.console.print(f"{question} {'yes' if given else 'no'} (from the command line)")
            return given
        if not self.interactive:
            return default
        return Confirm.ask(question, console=self.console, default=default)

    def _ask(self, question: str, default: str) -> str:
        if not self.interactive:
            return default
        return Prompt.ask(question, console=self.console, default=default, show_default=bool(default)).strip()

    def _step(self, n: int, title: str) -> None:
        self.console.print()
        self.console.rule(f"Step {n} of 6 · {title}", align="left")

    # ---- the steps ------------------------------------------------------------------------------

    def discover(self) -> Survey:
        """Step 1: the services, their Pythons, locks, the migrated libraries they use, what was skipped."""
        from fleetshift.report.planning import locks_summary, python_summary

        self._step(1, f"what is in {self.root}")
        s = survey(self.root)
        self.choices.configured = [r.id for r in all_recipes() if r.package in s.config.targets]
        wide = replace(s.config, targets={**default_targets(), **s.config.targets})
        s = Survey(wide, s.fleet, with_projects(s.fleet, _scan(s, wide)))
        source = s.config.source or "no fleetshift.toml yet: the recipes' defaults apply"
        self.console.print(f"Config: {source}")
        table = Table(title=f"{len(s.fleet.services)} service(s)", title_justify="left")
        for col in ("service", "folder", "kind", "Python", "locks", "libraries to migrate (pin as written)", "old-API sites"):
            table.add_column(col)
        for inv in s.inventory.services:
            p = inv.project
            libs = [f"{u.package} {u.current or 'unpinned'}" + (" (done)" if u.already_done else "") for u in inv.uses]
            sites = sum(1 for x in inv.sites if x.action.value != "info")
            table.add_row(inv.service + ("" if inv.has_tests else " (no tests)"), inv.path or ".", p.kind.value,
                          python_summary(p.pythons), locks_summary(p), ", ".join(libs) or "none", str(sites))
        self.console.print(table)
        if s.fleet.skipped:
            self.console.print(f"Skipped (not services; name them in [fleet] services of {CONFIG_NAME} to include them):")
            for folder, why in s.fleet.skipped:
                self.console.print(f"  {folder or '.'}: {why}")
        else:
            self.console.print("Skipped: no folder (every folder with a manifest is one of the services above).")
        notes = list(s.inventory.findings) + [f for inv in s.inventory.services for f in inv.findings]
        if notes:
            self.console.print("Noticed while reading the files:")
        for f in notes:
            self.console.print(f"  {f.location()}: {f.rule}: {f.message}")
        return s

    def choose(self, s: Survey) -> None:
        """Step 2: which migrations, to which targets; each recipe's advisories are shown."""
        self._step(2, "which migrations, to which targets")
        in_use = _in_use(s)
        recipes = {r.id: r for r in all_recipes()}
        table = Table(title="Migrations", title_justify="left")
        for col in ("recipe", "from -> to", "default target", "services that need it"):
            table.add_column(col)
        for r in recipes.values():
            users = in_use.get(r.id, [])
            src = f"{r.replaces} (any)" if r.replaces else f"{r.package}{r.migrates_from}"
            table.add_row(r.id, f"{src} -> {r.package}", self._default_target(s, r),
                          f"{len(users)}: " + ", ".join(users) if users else "none")
        self.console.print(table)
        self.console.print("Advisories (releases to avoid; a target that admits one is flagged in the plan):")
        for r in recipes.values():
            for adv in r.advisories:
                self.console.print(f"  {r.id}: {r.package}{adv.versions}: {adv.message}")
        default = [rid for rid in recipes if rid in in_use]
        self.choices.default_recipes = default
        self.choices.default_targets = {rid: self._default_target(s, r) for rid, r in recipes.items()}
        given_targets = parse_targets([f"{k}={v}" for k, v in self.answers.targets.items()])
        if self.answers.recipes is not None:
            chosen = [_recipe_id(r) for r in self.answers.recipes]
            self.console.print("Migrations to run: " + (", ".join(chosen) or "none") + " (from the command line)")
        else:
            chosen = self._ask_recipes(list(recipes), default)
        chosen += [rid for rid in given_targets if rid not in chosen]
        self.choices.recipes = [rid for rid in recipes if rid in chosen]
        for rid in self.choices.recipes:
            r = recipes[rid]
            if rid in given_targets:
                spec = given_targets[rid]
                self.console.print(f"Target for {r.package}: {spec} (from the command line)")
            else:
                spec = self._ask_target(r, self._default_target(s, r))
            self.choices.targets[rid] = spec

    def _default_target(self, s: Survey, r: Recipe) -> str:
        t = s.config.targets.get(r.package)
        return t.spec if t else r.migrates_to

    def _ask_recipes(self, known: list[str], default: list[str]) -> list[str]:
        while True:
            text = self._ask("Migrations to run (recipe ids separated by commas, 'all' or 'none')", ", ".join(default) or "none")
            if text.lower() == "all":
                return known
            if text.lower() in ("none", ""):
                return []
            picked = [w.strip() for w in text.replace(" ", ",").split(",") if w.strip()]
            try:
                return [_recipe_id(w) for w in picked]
            except WizardError as exc:
                if not self.interactive:
                    raise
                self.console.print(f"{exc}; the recipes are: {', '.join(known)}")

    def _ask_target(self, r: Recipe, default: str) -> str:
        while True:
            spec = self._ask(f"Target for {r.package}", default)
            try:
                return parse_targets([f"{r.id}={spec}"])[r.id]
            except WizardError as exc:
                if not self.interactive:
                    raise
                self.console.print(str(exc))

    def plan(self, s: Survey) -> Analysis:
        """Step 3: the risk-phased plan for the chosen migrations, with the reasons."""
        from fleetshift.plan import make_plan

        self._step(3, "the plan: phases A to D, lowest risk first")
        config = replace(s.config, targets=self.targets())
        inventory = with_projects(s.fleet, _scan(s, config))
        plan = plan_with_projects(s.fleet, make_plan(s.fleet, inventory, config))
        a = Analysis(config, s.fleet, inventory, plan)
        for adv in inventory.advisories:
            self.console.print(f"advisory: {adv.message}")
        for phase, services in plan.by_phase().items():
            if not services:
                self.console.print(f"Phase {phase.value}: no services")
                continue
            table = Table(title=f"Phase {phase.value}", title_justify="left")
            for col in ("#", "service", "batch", "risk", "migrations", "why"):
                table.add_column(col)
            for sp in services:
                why = "\n".join(r for r in sp.reasons if not r.startswith("batch "))
                table.add_row(str(sp.order), sp.service, str(sp.batch), f"{sp.risk} ({sp.risk_score:g})",
                              ", ".join(sp.recipes) or "no-op", why)
            self.console.print(table)
        return a

    def diffs(self, a: Analysis) -> None:
        """Step 4: the dry-run diff of the services asked for (nothing is written)."""
        from fleetshift.report.changes import print_changesets
        from fleetshift.rewrite import RewriteOptions, rewrite_fleet

        self._step(4, "what would change (dry run: nothing is written)")
        with_work = [sp.service for sp in sorted(a.plan.services, key=lambda sp: sp.order) if sp.recipes]
        self.console.print("Services with changes: " + (", ".join(with_work) or "none"))

        def show(names: list[str]) -> None:
            selection = Selection(tuple(Phase), tuple(names), tuple(self.choices.recipes))
            print_changesets(self.console, rewrite_fleet(a.fleet, a.plan, a.config, RewriteOptions(selection)))

        if self.answers.diffs is not None:
            names = with_work if "all" in self.answers.diffs else list(self.answers.diffs)
            unknown = [n for n in names if n not in {s.name for s in a.fleet.services}]
            if unknown:
                raise WizardError(f"--diff {', '.join(unknown)}: no such service; known: {', '.join(with_work)}")
            if names:
                show(names)
            self.choices.diffs = list(self.answers.diffs)
            return
        while self.interactive and with_work:
            name = self._ask("Show the diff of which service? (a name, 'all', or Enter to go on)", "")
            if not name:
                return
            names = with_work if name == "all" else [name]
            if name != "all" and name not in {s.name for s in a.fleet.services}:
                self.console.print(f"No service named {name!r}; the services with changes: {', '.join(with_work)}")
                continue
            show(names)
            self.choices.diffs.append(name)

    def config(self, s: Survey) -> None:
        """Step 5: offer to write fleetshift.toml with the chosen targets (an existing file is replaced only
        when the answer says so)."""
        self._step(5, CONFIG_NAME)
        path = self.root / CONFIG_NAME
        old = path.read_text(encoding="utf-8") if path.is_file() else None
        if old is None and s.config.source.endswith("[tool.fleetshift]"):
            self.console.print(f"The config lives in {s.config.source}; a {CONFIG_NAME} beside it would hide it, so the "
                               "wizard writes none. Its [tool.fleetshift.targets] would say:")
            for name, t in self.targets().items():
                value = f'{{ spec = "{t.spec}", replaces = "{t.replaces}" }}' if t.replaces else f'"{t.spec}"'
                self.console.print(f"  {name} = {value}", markup=False, highlight=False)
            return
        text = config_text(self.root, s, self.targets(), old)
        if old == text:
            self.console.print(f"{path} already says this; nothing to write.")
            return
        if old is None:
            self.console.print(f"{path} does not exist yet. It would hold:")
            self.console.print(text, markup=False, highlight=False)
            question, default = f"Write {path}?", True
        else:
            from fleetshift.model import FileChange
            from fleetshift.rewrite import unified_diff

            self.console.print(f"{path} exists. Its [targets] would change like this (the rest stays as it is):")
            self.console.file.write(unified_diff(FileChange(CONFIG_NAME, old.encode(), text.encode())))
            question, default = f"Replace {path} with this?", False
        self.choices.write_config = self._confirm(question, self.answers.write_config, default)
        if self.choices.write_config:
            self.choices.configured = list(self.choices.recipes)
            path.write_text(text, encoding="utf-8")
            self.console.print(f"Wrote {path}.")
        else:
            self.console.print(f"{path} was not written.")

    def start(self, a: Analysis) -> Finished | None:
        """Step 6: offer to start phase A, verified by each service's tests as `run` does; the run's Finished."""
        from fleetshift.orchestrate import RunOptions
        from fleetshift.runner import start_run

        self._step(6, "phase A")
        services = [sp.service for sp in a.plan.by_phase()[Phase.A]]
        if not services or not self.choices.recipes:
            self.console.print("Phase A has no services to migrate; nothing to start.")
            return None
        self.console.print(f"Phase A (canaries): {', '.join(services)}. Each is tested on its old pins, rewritten, "
                           "tested on the new pins, and rolled back alone if it breaks.")
        self.choices.start = self._confirm("Start phase A now?", self.answers.start, False)
        if not self.choices.start:
            self.console.print("Phase A was not started; no file of the fleet was changed.")
            return None
        self.choices.verify = self._confirm("Run each service's tests before and after (recommended)?",
                                            self.answers.verify, True)
        if self.choices.verify:
            from fleetshift.verify.pythons import preflight

            problems = preflight(replace(a.fleet, services=tuple(s for s in a.fleet.services if s.name in services)), a.config)
            if problems:
                raise WizardError("phase A was not started, nothing was changed; " + "\n".join(problems))
        options = RunOptions(phases=(Phase.A,), recipes=tuple(self.choices.recipes), yes=True, verify=self.choices.verify)
        done = start_run(a, options, self.console)
        page = next((p for p in done.reports if p.name == "report.html"), None)
        if page is not None:
            self.console.print(f"The run's picture and every change: open {page.as_uri()} in a browser.")
        return done

    def targets(self) -> dict[str, Target]:
        recipes = {r.id: r for r in all_recipes()}
        return {recipes[rid].package: Target(recipes[rid].package, spec, recipes[rid].replaces)
                for rid, spec in self.choices.targets.items()}

    # ---- the whole walk -------------------------------------------------------------------------

    def run(self) -> Finished | None:
        """Every step in order; returns the phase A run (a runner.Finished) when one was started."""
        self.console.print(f"fleetshift wizard: a first migration campaign for {self.root}, in 6 steps. Nothing is "
                           f"written before step 5 asks about {CONFIG_NAME}, and no service changes unless step 6 "
                           "starts phase A. Enter takes the default shown in parentheses; Ctrl-C leaves.")
        s = self.discover()
        if not s.fleet.services:
            self.console.print(f"No services found in {self.root}: no folder there holds requirements*.txt, pyproject.toml, "
                               f"setup.cfg, setup.py or Pipfile. Point the wizard at the folder that holds your services.")
            return None
        self.choose(s)
        a = self.plan(s)
        self.diffs(a)
        self.config(s)
        done = self.start(a)
        self.console.print()
        self.console.rule("The same without questions", align="left")
        for line in commands(self.root, self.choices, s.config.source):
            self.console.print(line, markup=False, highlight=False, soft_wrap=True)
        return done


def _scan(s: Survey, config: FleetConfig) -> Inventory:
    from fleetshift.scan import scan

    return scan(s.fleet, config)


def _recipe_id(name: str) -> str:
    try:
        return get(name).id
    except RecipeError:
        known = ", ".join(r.id for r in all_recipes())
        raise WizardError(f"--recipe {name!r}: no such recipe; the recipes are: {known}") from None


def _in_use(s: Survey) -> dict[str, list[str]]:
    """Recipe id -> the services that still need it."""
    out: dict[str, list[str]] = {}
    for inv in s.inventory.services:
        for u in inv.uses:
            if not u.already_done:
                out.setdefault(u.recipe, []).append(inv.service)
    return out


def config_text(root: Path, s: Survey, targets: Mapping[str, Target], old: str | None) -> str:
    """fleetshift.toml with these [targets]: the existing file with only its [targets] table changed (comments
    kept), or a new commented starter file. The text is checked to load as a config."""
    from fleetshift.starter import starter_config

    if old is None:
        base = starter_config(root.resolve(), s.fleet, s.inventory).text
        base = base.replace("written by `fleetshift init`", "written by `fleetshift wizard`", 1)
    else:
        base = old
    doc = tomlkit.parse(base)
    recipes = {r.package: r for r in all_recipes()}
    table = doc.get("targets")
    if table is None:
        table = tomlkit.table()
        table.comment("where each migrated package should end up (PEP 440 specifiers)")
        doc["targets"] = table
    for name in [k for k in table if k not in targets]:
        del table[name]
    for name, t in targets.items():
        if t.replaces:
            value = tomlkit.inline_table()
            value.update({"spec": t.spec, "replaces": t.replaces})
        else:
            value = tomlkit.string(t.spec)
        if name in table and _same(table[name], t):
            continue
        item = tomlkit.item(value)
        r = recipes.get(name)
        if r is not None:
            item.comment(f"{r.title} (recipe {r.id})")
        table[name] = item
    text = tomlkit.dumps(doc)
    parse_config(root, tomllib.loads(text), str(root / CONFIG_NAME))  # raises ConfigError if it would not load
    return text


def _same(current: object, t: Target) -> bool:
    value = current.unwrap() if hasattr(current, "unwrap") else current
    if isinstance(value, str):
        return value == t.spec and not t.replaces
    return isinstance(value, dict) and value.get("spec") == t.spec and value.get("replaces") == t.replaces


def commands(root: Path, c: Choices, source: str = "") -> list[str]:
    """The commands that do what the wizard did, without questions."""
    fleet = shlex.quote(str(root))
    recipes = "" if set(c.recipes) == set(c.configured) else "".join(f" -r {r}" for r in c.recipes)
    flags = [] if c.recipes == c.default_recipes else [f"--recipe {r}" for r in c.recipes] or ["--recipe none"]
    flags += [f"--target {shlex.quote(f'{get(r).package}={spec}')}" for r, spec in c.targets.items()
              if spec != c.default_targets.get(r)]
    flags += [f"--diff {shlex.quote(d)}" for d in c.diffs]
    flags += ["--write-config" if c.write_config else "--no-write-config"]
    flags += ["--start-phase-a" if c.start else "--no-start"]
    if c.start and not c.verify:
        flags.append("--no-verify")
    lines = [f"  fleetshift wizard {fleet} " + " ".join(flags) + " --yes", "Or one stage at a time:"]
    if not c.write_config and not source:
        lines.append(f"  fleetshift init {fleet}   # a commented {CONFIG_NAME}; set [targets] there")
    elif not c.write_config:
        lines.append(f"  # the commands below use the [targets] of {source}")
    steps = [
        (f"fleetshift scan {fleet}", "who uses what"),
        (f"fleetshift plan {fleet} --out plan.html", "the phases, as a page with the dependency graph"),
        (f"fleetshift run {fleet} --dry-run{recipes}", "every diff, nothing written"),
        (f"fleetshift run {fleet} --phase a{recipes}", "phase A, verified by each service's tests"),
        (f"fleetshift status {fleet}", "where the run stands; its report.html is in .fleetshift/runs/<run>/"),
    ]
    width = max(len(cmd) for cmd, _ in steps)
    lines += [f"  {cmd.ljust(width)}   # {why}" for cmd, why in steps]
    return lines


def refusal(root: Path) -> list[str]:
    """What to run instead, when there is no terminal to ask on."""
    fleet = shlex.quote(str(root))
    return [
        "Without a terminal, answer with flags, e.g.:",
        f"  fleetshift wizard {fleet} --yes                       # every default: migrations in use, the recipes' "
        f"targets; writes {CONFIG_NAME} only if there is none; does not start phase A",
        f"  fleetshift wizard {fleet} --recipe tenacity --target 'tenacity=>=9.1.2,<10' --write-config --no-start",
        "Or run the stages:",
        f"  fleetshift scan {fleet}",
        f"  fleetshift plan {fleet} --out plan.html",
        f"  fleetshift run {fleet} --dry-run",
        f"  fleetshift run {fleet} --phase a",
    ]


__all__ = ["Answers", "ConfigError", "Wizard", "WizardError", "commands", "config_text", "parse_targets", "refusal"]
