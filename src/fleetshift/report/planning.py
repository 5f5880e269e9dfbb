"""The planning reports: dependency matrix, risk assessment, migration order, service groups, raw JSON."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from fleetshift.model import Action, Inventory, Plan, Project, PythonModel, to_jsonable
from fleetshift.recipes import all_recipes


def dump_json(obj: Any) -> str:
    return json.dumps(to_jsonable(obj), indent=2, sort_keys=False) + "\n"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def python_summary(pythons: PythonModel) -> str:
    """A service's Pythons in a few words: `>=3.8 · 3.8–3.12 · pinned 3.12.4` ("not declared" when nothing says)."""
    parts = [pythons.spec] if pythons.spec else []
    if pythons.versions:
        v = pythons.versions
        parts.append(", ".join(v) if len(v) <= 3 else f"{v[0]}–{v[-1]} ({len(v)} versions)")
    if pythons.pinned:
        parts.append(f"pinned {pythons.pinned}")
    return " · ".join(parts) or "not declared"


def locks_summary(project: Project, *, commands: bool = False) -> str:
    """The lock files by name, with the kind when the name does not say it (or the command that
    regenerates each, with `commands`)."""
    parts = []
    for lock in project.locks:
        name = lock.file.rsplit("/", 1)[-1]
        if commands and lock.command:
            parts.append(f"{name} ({lock.command})")
        else:
            parts.append(name if name == lock.kind.value else f"{name} ({lock.kind.value})")
    return ", ".join(parts) or "none"


def test_summary(project: Project) -> str:
    tc = project.test_command
    return f"{tc.command} ({tc.source})" if tc.source != "default" else f"{tc.command} (default)"


def project_rows(items: list[tuple[str, Project]], *, commands: bool = False) -> list[list[str]]:
    """One row per service: name, kind (and distribution name), Pythons, locks, test command."""
    rows = []
    for name, p in items:
        kind = p.kind.value + (f" {p.name}" if p.name and p.name != name else "")
        rows.append([name, kind, python_summary(p.pythons), locks_summary(p, commands=commands), test_summary(p)])
    return rows


PROJECT_HEADER = ["service", "kind", "Python", "locks", "test command"]


def skipped_lines(skipped: tuple[tuple[str, str], ...]) -> list[str]:
    return [f"{path or '.'}: {why}" for path, why in skipped]


def projects_section(inv: Inventory) -> str:
    """The services as projects, and the folders that are not services, in Markdown."""
    out = ["\n## Projects\n\n",
           "Read from the services' own files (requires-python, Poetry, classifiers, tox, CI, Dockerfiles, locks, "
           "test configuration); nothing was run.\n\n",
           _table(PROJECT_HEADER, project_rows([(s.service, s.project) for s in inv.services], commands=True))]
    if inv.skipped:
        out.append("\n## Folders that are not services\n\n"
                   "Listed in `[fleet] services` of fleetshift.toml, any of them becomes one.\n\n")
        out += [f"- `{line.split(': ', 1)[0]}`: {line.split(': ', 1)[1]}\n" for line in skipped_lines(inv.skipped)]
    return "".join(out)


def dependency_analysis(inv: Inventory) -> str:
    recipes = all_recipes()
    header = ["service", *[r.id for r in recipes]]
    rows = []
    for s in inv.services:
        row = [s.service]
        for r in recipes:
            use = next((u for u in s.uses if u.recipe == r.id), None)
            sites = [x for x in s.sites if x.recipe == r.id and x.action is not Action.INFO]
            if use is None:
                row.append("—")
            else:
                pin = f"{use.package}{use.current}" if use.current else f"{use.package} (unpinned)"
                state = "done" if use.already_done else f"{len(sites)} site(s)"
                row.append(f"{pin}: {state}")
        rows.append(row)
    out = ["# Dependency analysis\n", f"Fleet: `{inv.root}`\n",
           "Each cell: the pin as written, then the number of old-API usage sites (or *done* when the service is "
           "already on the target).\n", _table(header, rows), projects_section(inv)]
    if inv.advisories:
        out.append("\n## Advisories on the campaign targets\n")
        out += [f"- **{a.rule}**: {a.message}" + (f" ({a.link})" if a.link else "") + "\n" for a in inv.advisories]
    problems = [f for f in inv.findings] + [f for s in inv.services for f in s.findings]
    if problems:
        out.append("\n## Files fleetshift could not read\n")
        out += [f"- `{f.location()}` {f.rule}: {f.message}\n" for f in problems]
    return "".join(out)


def risk_assessment(plan: Plan) -> str:
    rows = [[s.service, s.risk, f"{s.risk_score:g}", s.phase.value, "; ".join(s.reasons[:1])]
            for s in sorted(plan.services, key=lambda s: -s.risk_score)]
    return "# Risk assessment\n\n" + _table(["service", "risk", "score", "phase", "why"], rows)


def migration_order(plan: Plan) -> str:
    out = ["# Migration order\n"]
    for phase, services in plan.by_phase().items():
        out.append(f"\n## Phase {phase.value}\n\n")
        if not services:
            out.append("No services.\n")
            continue
        for s in services:
            chain = " → ".join(s.recipes) or "no-op"
            out.append(f"{s.order}. **{s.service}** (batch {s.batch}, risk {s.risk}): {chain}\n")
            out += [f"   - {r}\n" for r in s.reasons]
    return "".join(out)


def service_groups(plan: Plan) -> dict[str, Any]:
    by_recipe: dict[str, list[str]] = defaultdict(list)
    for s in plan.services:
        for r in s.recipes:
            by_recipe[r].append(s.service)
    by_phase: dict[str, list[dict[str, Any]]] = {}
    for phase, services in plan.by_phase().items():
        batches: dict[int, list[str]] = defaultdict(list)
        for s in services:
            batches[s.batch].append(s.service)
        by_phase[phase.value] = [{"batch": b, "services": names} for b, names in sorted(batches.items())]
    return {"by_recipe": dict(by_recipe), "by_phase": by_phase}


def write_plan_reports(out: Path, inv: Inventory, plan: Plan) -> list[Path]:
    """Write the planning reports into `out`; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "dependency-analysis.md": dependency_analysis(inv),
        "risk-assessment.md": risk_assessment(plan),
        "migration-order.md": migration_order(plan),
        "service-groups.json": json.dumps(service_groups(plan), indent=2) + "\n",
        "inventory.json": dump_json(inv),
        "plan.json": dump_json(plan),
    }
    written = []
    for name, text in files.items():
        path = out / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
