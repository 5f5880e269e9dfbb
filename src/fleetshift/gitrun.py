"""A run's git side: preparing the worktree, then branches, commits and pull-request bodies; push and rollback.

Monorepo (`run FLEET --git`): the campaign rewrites a detached worktree of the start commit; each kept service
becomes one commit on `fleetshift/<run-id>/<service>` (or, with `[git] branch_per = "phase"`, one commit per
service on `fleetshift/<run-id>/phase-<x>`). Multi-repo (`[fleet] repos`): the campaign rewrites fleetshift's
own clones under `.fleetshift/workspace/`; each repository gets one branch `fleetshift/<run-id>` holding one
commit per kept service. A pull-request body per branch goes to `<run dir>/prs/<branch-as-file>.md`.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fleetshift.config import FleetConfig
from fleetshift.gitops import (
    STATE_DIR,
    GitError,
    GitRecord,
    RepoRecord,
    add_worktree,
    branch_file,
    changed_paths,
    commit_files,
    create_branch,
    delete_branch,
    diffstat,
    dirty_files,
    dirty_message,
    ensure_ignored,
    git,
    head,
    identity,
    remove_worktree,
    toplevel,
)

Say = Callable[[str], None]
KEPT = {"passed", "no-op", "not-verified", "unverifiable"}


@dataclass(frozen=True)
class GitStart:
    """What the command line decided before the run: the repository, the start commit, and the options."""

    repo: Path
    fleet: Path
    start: str
    allow_dirty: bool = False
    dirty: tuple[str, ...] = ()


def check_start(fleet: Path, allow_dirty: bool) -> GitStart:
    """The fleet's repository and start commit; GitError for no repository or a dirty tree (unless allowed)."""
    fleet = fleet.resolve()
    repo = toplevel(fleet)
    if repo is None and shutil.which("git") is None:
        raise GitError("git is not installed (or not on PATH); a git run needs it. Fix: install git, or run without --git")
    if repo is None:
        raise GitError(f"{fleet} is not inside a git work tree. Fix: run without --git, or `git init` and commit the fleet")
    start = head(repo)
    dirty = dirty_files(repo, fleet)
    if dirty and not allow_dirty:
        raise GitError(dirty_message(fleet, dirty))
    return GitStart(repo, fleet, start, allow_dirty, tuple(dirty))


def prepare_monorepo(start: GitStart, run_dir: Path, run_id: str, branch_per: str) -> tuple[GitRecord, Path]:
    """Add the run's worktree of the start commit; the record (saved) and the fleet root inside the worktree."""
    ensure_ignored(start.repo, start.fleet)
    worktree = start.fleet / STATE_DIR / "worktrees" / run_id
    prefix = os.path.relpath(start.fleet, start.repo).replace(os.sep, "/")
    prefix = "" if prefix == "." else prefix
    record = GitRecord("monorepo", branch_per, [RepoRecord(start.repo.name, str(start.repo), str(worktree), prefix,
                                                           start.start, worktree=str(worktree))],
                       allow_dirty=start.allow_dirty)
    record.save(run_dir)  # recorded before it exists, so a crash in between still leaves it to roll back
    add_worktree(start.repo, worktree, start.start)
    return record, worktree / prefix if prefix else worktree


def prepare_multirepo(a: Any, run_dir: Path) -> GitRecord:
    """Record each workspace clone of a multi-repo fleet and the commit the run starts from."""
    from fleetshift.workspace import clone_url, repo_names, workspace_root

    ws = workspace_root(Path(a.config.root))
    repos = []
    for name, spec in repo_names(a.config.repos):
        clone = ws / name
        repos.append(RepoRecord(name, str(clone), str(clone), "", head(clone), origin=clone_url(Path(a.config.root), spec),
                                fleet_prefix=name))
    record = GitRecord("multi-repo", "repo", repos)
    record.save(run_dir)
    return record


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "service"


def _in_repo(rec: RepoRecord, path: str) -> bool:
    return not rec.fleet_prefix or path == rec.fleet_prefix or path.startswith(rec.fleet_prefix + "/")


def _work_path(rec: RepoRecord, rel: str) -> str:
    """A campaign-fleet-relative path as a path in the repository's work tree."""
    if rec.fleet_prefix:
        rel = rel[len(rec.fleet_prefix) + 1:] if rel.startswith(rec.fleet_prefix + "/") else rel
    return f"{rec.prefix}/{rel}" if rec.prefix else rel


def _kept(results: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in results["services"]
            if (s["kept"] or s["status"] == "no-op") and s["verdict"] in KEPT and s["files_changed"]]


def _counts(t: dict[str, Any] | None) -> str:
    if not t:
        return "did not run"
    if t.get("state", "ran") != "ran":
        return f"could not run ({t['state']})"
    parts = [f"{t['passed']} passed"] + [f"{t[k]} {k}" for k in ("failed", "errors", "skipped") if t.get(k)]
    return ", ".join(parts)


def evidence(s: dict[str, Any]) -> str:
    before, after = s["tests"]["before"], s["tests"]["after"]
    if before is None and after is None:
        return "not verified (--no-verify): no test ran on the old or the new pins"
    return f"baseline (old pins) {_counts(before)}; after (new pins) {_counts(after)}"


def _recipes(s: dict[str, Any]) -> list[str]:
    return [m["recipe"] for m in s["migrations"]]


def _targets(config: FleetConfig, recipe_ids: list[str]) -> list[str]:
    from fleetshift.recipes import RecipeError, get

    out = []
    for rid in recipe_ids:
        try:
            r = get(rid)
        except RecipeError:
            continue
        t = config.targets.get(r.package)
        if t:
            out.append(f"{t.package} {t.spec}" + (f" (replaces {t.replaces})" if t.replaces else ""))
    return out


def commit_message(s: dict[str, Any], run_id: str, config: FleetConfig, files: list[str]) -> str:
    recipes = _recipes(s)
    lines = [f"{s['name']}: migrate {', '.join(recipes) or 'no recipe'} (fleetshift run {run_id})", ""]
    targets = _targets(config, recipes)
    if targets:
        lines.append("Targets: " + "; ".join(targets))
    lines.append("Changed files:")
    lines += [f"  {f}" for f in files]
    lines.append(f"Evidence: {evidence(s)}")
    lines.append(f"Verdict: {s['verdict_label']}")
    if s.get("not_covered"):
        lines.append("Not covered: no test that ran imports " + ", ".join(s["not_covered"]))
    lines.append(f"Findings left for a human: {len(s['findings'])}")
    return "\n".join(lines) + "\n"


def _service_section(s: dict[str, Any], config: FleetConfig, level: str = "##",
                     where: Callable[[str], str] = str) -> list[str]:
    """One service's part of a pull-request body; `where` turns a fleet path into one of the repository."""
    from fleetshift.recipes import RecipeError, get

    lines = [f"{level} What changed and why", ""]
    for rid in _recipes(s):
        try:
            r = get(rid)
        except RecipeError:
            lines.append(f"- `{rid}`")
            continue
        target = config.targets.get(r.package)
        to = f" → `{r.package} {target.spec}`" if target else ""
        docs = " ".join(r.docs.split())
        lines.append(f"- **{r.id}**: {r.title}{to}" + (f" ({docs})" if docs else ""))
        for adv in r.advisories:
            lines.append(f"  - advisory: avoid `{r.package}{adv.versions}`: {adv.message}" + (f" ({adv.link})" if adv.link else ""))
    lines += ["", f"{level} Findings left for a human", ""]
    if s["findings"]:
        for f in s["findings"]:
            at = f"{where(f['file'])}:{f['line']}" if f.get("line") else where(f["file"])
            lines.append(f"- [ ] `{at}` `{f['rule']}`: {f['message']}" + (f" ({f['link']})" if f.get("link") else ""))
    else:
        lines.append("None: every site found was rewritten.")
    lines += ["", f"{level} Test evidence", ""]
    before, after = s["tests"]["before"], s["tests"]["after"]
    if before is None and after is None:
        lines.append("**Not verified** (`--no-verify`): no test ran on the old or the new pins. Review with care.")
    else:
        lines += ["| | baseline (old pins) | after (new pins) |", "|---|---|---|"]
        for key in ("passed", "failed", "errors", "skipped"):
            lines.append(f"| {key} | {(before or {}).get(key, '-')} | {(after or {}).get(key, '-')} |")
        ran = after or before or {}
        how = f"{ran.get('kind') or 'tests'}" + (f", `{ran['command']}`" if ran.get("command") else "")
        how += f", Python {ran['python']}" if ran.get("python") else ""
        lines += ["", f"Ran: {how}. Verdict: **{s['verdict']}**."]
        if s.get("not_covered"):
            lines.append(f"⚠ Not covered: no test that ran imports {', '.join(where(f) for f in s['not_covered'])}.")
        if s["verdict"] == "unverifiable":
            lines.append("⚠ Kept **unverified**: the baseline could not run, so nothing proves this change.")
    return lines


def pr_body(title: str, branch: str, run_id: str, start: str, items: list[dict[str, Any]], config: FleetConfig,
            stat: str, where: Callable[[str], str] = str) -> str:
    lines = [f"# {title}", "", f"Branch `{branch}`, made by fleetshift run `{run_id}` on top of commit `{start[:12]}`.", ""]
    if len(items) == 1:
        lines += _service_section(items[0], config, where=where)
    else:
        lines += [f"Services: {', '.join(s['name'] for s in items)} (one commit each).", ""]
        for s in items:
            lines += [f"## {s['name']}", "", *_service_section(s, config, "###", where), ""]
    lines += ["", "## Diffstat", "", "```", stat, "```", ""]
    return "\n".join(lines)


def make_branches(record: GitRecord, run_dir: Path, run_id: str, config: FleetConfig, say: Say) -> list[str]:
    """Commit every kept service of the run on its branch and write the pull-request bodies; the branches made."""
    from fleetshift.report.results import build_results

    if record.finished:
        return [b for r in record.repos for b in r.branches]
    results = build_results(run_dir)
    kept = _kept(results)
    made: list[str] = []
    prs = run_dir / "prs"
    for rec in record.repos:
        env, note = identity(Path(rec.repo))
        if note and note not in record.note:
            record.note = (record.note + "\n" + note).strip()
            say(note)
        mine = [s for s in kept if _in_repo(rec, s["path"] or "")]
        groups: dict[str, list[dict[str, Any]]] = {}
        for s in mine:
            if record.mode == "multi-repo":
                branch = f"fleetshift/{run_id}"
            elif record.branch_per == "phase":
                branch = f"fleetshift/{run_id}/phase-{(s['phase'] or 'x').lower()}"
            else:
                branch = f"fleetshift/{run_id}/{_safe(s['name'])}"
            groups.setdefault(branch, []).append(s)
        work = Path(rec.work)
        for branch, items in groups.items():
            if branch in rec.branches:  # made before an earlier attempt stopped
                made.append(branch)
                continue
            tip = rec.start
            for s in items:
                files = [_work_path(rec, f) for f in s["files_changed"]]
                tip = commit_files(work, tip, files, commit_message(s, run_id, config, files), env)
                rec.services[s["name"]] = branch
            create_branch(Path(rec.repo), branch, tip)
            rec.branches[branch] = tip
            record.save(run_dir)
            made.append(branch)
            names = ", ".join(s["name"] for s in items)
            title = (f"{items[0]['name']}: migrate {', '.join(_recipes(items[0]))}" if len(items) == 1
                     else f"fleetshift: migrate {names}")
            body = pr_body(title, branch, run_id, rec.start, items, config, diffstat(work, rec.start, tip),
                           lambda p, rec=rec: _work_path(rec, p))
            prs.mkdir(exist_ok=True)
            (prs / f"{_pr_name(record, rec, branch)}.md").write_text(body, encoding="utf-8")
            say(f"branch {branch} ({rec.name}): {len(changed_paths(work, rec.start, tip))} file(s), {names}")
    record.finished = True
    record.save(run_dir)
    return made


def _pr_name(record: GitRecord, rec: RepoRecord, branch: str) -> str:
    return (f"{rec.name}--" if record.mode == "multi-repo" else "") + branch_file(branch)


def finish(record: GitRecord, run_dir: Path, run_id: str, config: FleetConfig, say: Say) -> list[str]:
    """After the campaign: branches and PR bodies, then the monorepo's worktree goes (the branches hold it all)."""
    made = make_branches(record, run_dir, run_id, config, say)
    for rec in record.repos:
        if rec.worktree:
            remove_worktree(Path(rec.repo), Path(rec.worktree))
        elif record.mode == "multi-repo" and rec.branches:
            # fleetshift's own clone shows what was kept: its branch, checked out
            git(["checkout", "--quiet", "-f", next(iter(rec.branches))], rec.repo)
    return made


def push(record: GitRecord, run_dir: Path, config: FleetConfig, say: Say) -> list[str]:
    """Push every branch of the run to its repository's origin with the user's own git credentials; then the
    pr_command hook per branch. Returns the problems (empty when all went well)."""
    from fleetshift.proc import run_logged

    problems: list[str] = []
    logs = run_dir / "logs" / "git"
    logs.mkdir(parents=True, exist_ok=True)
    for rec in record.repos:
        for branch in rec.branches:
            try:
                git(["push", "--quiet", "origin", f"refs/heads/{branch}:refs/heads/{branch}"], rec.repo)
            except GitError as exc:
                problems.append(f"push of {branch} ({rec.name}) failed: {exc}")
                continue
            if f"{rec.name}:{branch}" not in record.pushed:
                record.pushed.append(f"{rec.name}:{branch}")
            say(f"pushed {branch} to {rec.name}'s origin")
            command = config.git.pr_command
            if not command:
                continue
            body = run_dir / "prs" / f"{_pr_name(record, rec, branch)}.md"
            title = body.read_text("utf-8").splitlines()[0].lstrip("# ") if body.is_file() else branch
            cmd = command.format(branch=shlex.quote(branch), title=shlex.quote(title), body=shlex.quote(str(body)),
                                 repo=shlex.quote(rec.name))
            with (logs / "pr-command.log").open("a", encoding="utf-8") as log:
                code, timed_out = run_logged(cmd, Path(rec.repo), dict(os.environ), log, config.step_timeout)
            if code != 0:
                problems.append(f"pr_command for {branch} failed (exit {code}{', timed out' if timed_out else ''}); "
                                f"see {logs / 'pr-command.log'}")
    record.save(run_dir)
    return problems


@dataclass(frozen=True)
class GitRollback:
    deleted: tuple[str, ...]
    kept: tuple[tuple[str, str], ...]
    worktrees: tuple[str, ...]
    pushed: tuple[tuple[str, str], ...] = ()  # (repository, branch) pushed by the run: left on the remote


def rollback(record: GitRecord, run_dir: Path, service: str | None = None) -> GitRollback:
    """Delete exactly the branches (and worktrees) the run created; a branch moved since is kept and named."""
    deleted: list[str] = []
    kept: list[tuple[str, str]] = []
    worktrees: list[str] = []
    for rec in record.repos:
        wanted = set(rec.branches)
        if service is not None:
            wanted = {b for s, b in rec.services.items() if s == service}
            if any(b in wanted for s, b in rec.services.items() if s != service):
                kept += [(b, f"it also holds other services than {service}") for b in wanted]
                continue
        if record.mode == "multi-repo" and wanted and Path(rec.repo).is_dir():
            git(["checkout", "--quiet", "-f", "--detach", rec.start], rec.repo, check=False)
        for branch in sorted(wanted):
            outcome = delete_branch(Path(rec.repo), branch, rec.branches[branch])
            if outcome == "deleted":
                deleted.append(branch)
                rec.branches.pop(branch)
                (run_dir / "prs" / f"{_pr_name(record, rec, branch)}.md").unlink(missing_ok=True)
            elif outcome != "gone":
                kept.append((branch, outcome))
            else:
                rec.branches.pop(branch)
        if service is None and rec.worktree and remove_worktree(Path(rec.repo), Path(rec.worktree)):
            worktrees.append(rec.worktree)
    record.save(run_dir)
    pushed = []
    for item in record.pushed:
        repo, _, branch = item.partition(":")
        if branch in deleted:
            pushed.append((next((r.repo for r in record.repos if r.name == repo), repo), branch))
    return GitRollback(tuple(deleted), tuple(kept), tuple(worktrees), tuple(pushed))


def pr_bodies(run_dir: Path) -> list[Path]:
    return sorted((run_dir / "prs").glob("*.md"))

