"""Fleets in git: a run's changes as a branch and commit per service, never touching the user's branch.

A run over a git work tree records the commit it started on, refuses a dirty tree (unless asked), and works
in a detached `git worktree` of that commit under `.fleetshift/worktrees/<run-id>`; the user's branch, index
and working tree are never written. When the run ends, each service whose change is kept gets a commit made
with plumbing (a temporary index, `write-tree`, `commit-tree`, `update-ref`) holding exactly that service's
changed files on top of the start commit, on `fleetshift/<run-id>/<service>` (or one branch per phase, one
commit per service). Everything a run creates (worktrees, branches and the commit each branch was created
at) is recorded in `<run dir>/git.json`, so `rollback` deletes exactly that and nothing else.

Every git command goes through `fleetshift.proc`.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fleetshift.fsutil import replace_file
from fleetshift.proc import run_captured

GIT_TIMEOUT = 300.0
RECORD = "git.json"
FALLBACK_NAME = "fleetshift"
FALLBACK_EMAIL = "fleetshift@localhost"
STATE_DIR = ".fleetshift"


class GitError(Exception):
    """A git command failed, or the fleet is not in a state a git run can start from (message says the fix)."""


def git(args: Sequence[str], cwd: Path | str, env: Mapping[str, str] | None = None, input: str | None = None,
        timeout: float = GIT_TIMEOUT, check: bool = True) -> str:
    """Run `git <args>` in `cwd`; its standard output (stripped of the last newline). Raises GitError on failure."""
    full = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", **(env or {})}
    res = run_captured(["git", *args], timeout, cwd=cwd, env=full, input=input)
    if check and not res.ok:
        detail = (res.stderr or res.stdout or res.error).strip()
        raise GitError(f"git {' '.join(args[:3])} failed in {cwd}: {detail}")
    return res.stdout[:-1] if res.stdout.endswith("\n") else res.stdout


def git_ok(args: Sequence[str], cwd: Path | str, env: Mapping[str, str] | None = None) -> bool:
    full = {**os.environ, "GIT_TERMINAL_PROMPT": "0", **(env or {})}
    return run_captured(["git", *args], GIT_TIMEOUT, cwd=cwd, env=full).ok


def toplevel(path: Path) -> Path | None:
    """The top of the git work tree holding `path`, or None when it is not in one (or git is missing)."""
    res = run_captured(["git", "rev-parse", "--show-toplevel"], GIT_TIMEOUT, cwd=path)
    if not res.ok or not res.stdout.strip():
        return None
    return Path(res.stdout.strip()).resolve()


def head(repo: Path) -> str:
    try:
        return git(["rev-parse", "--verify", "HEAD^{commit}"], repo)
    except GitError:
        raise GitError(f"{repo} has no commit yet; commit the fleet first (git add -A && git commit)") from None


def current_branch(repo: Path) -> str:
    return git(["symbolic-ref", "--quiet", "--short", "HEAD"], repo, check=False)


def dirty_files(repo: Path, fleet: Path) -> list[str]:
    """Tracked files with uncommitted changes and untracked, not ignored files inside `fleet` (repo-relative)."""
    rel = os.path.relpath(fleet, repo)
    out = git(["status", "--porcelain=v1", "-z", "--untracked-files=all", "--", "." if rel == "." else rel], repo)
    files: list[str] = []
    parts = out.split("\0")
    i = 0
    while i < len(parts):
        entry = parts[i]
        i += 1
        if len(entry) < 4:
            continue
        code, path = entry[:2], entry[3:]
        if "R" in code or "C" in code:
            i += 1  # the rename's source follows
        if path.split("/", 1)[0] == STATE_DIR or f"/{STATE_DIR}/" in f"/{path}":
            continue
        files.append(path)
    return files


def dirty_message(fleet: Path, files: list[str]) -> str:
    shown = ", ".join(files[:10]) + (f" and {len(files) - 10} more" if len(files) > 10 else "")
    return (f"{fleet} has uncommitted changes ({shown}); a git run starts from the last commit and would leave "
            f"them out. Fix: commit or stash them, or pass --allow-dirty (the uncommitted changes are then not part "
            f"of the branches)")


def ensure_ignored(repo: Path, fleet: Path) -> None:
    """Make git ignore the fleet's `.fleetshift/` (its runs, locks and worktrees) through `.git/info/exclude`,
    never through the user's .gitignore."""
    probe = fleet / STATE_DIR / "runs"
    rel = os.path.relpath(probe, repo)
    if git_ok(["check-ignore", "-q", "--no-index", rel], repo):
        return
    common = Path(git(["rev-parse", "--git-common-dir"], repo))
    common = common if common.is_absolute() else (repo / common)
    exclude = common / "info" / "exclude"
    exclude.parent.mkdir(parents=True, exist_ok=True)
    text = exclude.read_text(encoding="utf-8") if exclude.is_file() else ""
    line = "/" + os.path.relpath(fleet / STATE_DIR, repo).replace(os.sep, "/") + "/"
    if line not in text.splitlines():
        exclude.write_text(text + ("" if not text or text.endswith("\n") else "\n") + line + "\n", encoding="utf-8")


def identity(repo: Path) -> tuple[dict[str, str], str]:
    """The environment giving commits an author and committer: the user's git config, or fleetshift's own
    name when none is set (with a note saying so)."""
    name = os.environ.get("GIT_AUTHOR_NAME") or git(["config", "user.name"], repo, check=False)
    email = os.environ.get("GIT_AUTHOR_EMAIL") or git(["config", "user.email"], repo, check=False)
    if name.strip() and email.strip():
        return {}, ""
    env = {"GIT_AUTHOR_NAME": FALLBACK_NAME, "GIT_AUTHOR_EMAIL": FALLBACK_EMAIL,
           "GIT_COMMITTER_NAME": FALLBACK_NAME, "GIT_COMMITTER_EMAIL": FALLBACK_EMAIL}
    return env, (f"no git user.name/user.email is set for {repo}: commits are authored by "
                 f"{FALLBACK_NAME} <{FALLBACK_EMAIL}> (set them with git config to sign them yourself)")


def add_worktree(repo: Path, path: Path, commit: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    git(["worktree", "add", "--detach", "--quiet", str(path), commit], repo)


def remove_worktree(repo: Path, path: Path) -> bool:
    """Remove a worktree this run created; True when it was there."""
    existed = path.exists()
    if existed:
        git(["worktree", "remove", "--force", "--force", str(path)], repo, check=False)
    if path.exists():
        import shutil

        shutil.rmtree(path, ignore_errors=True)
    git(["worktree", "prune"], repo, check=False)
    return existed


def commit_files(work: Path, parent: str, paths: Sequence[str], message: str, env: Mapping[str, str]) -> str:
    """A commit on top of `parent` whose tree is `parent`'s with `paths` (relative to the work tree `work`) as
    they are in `work` now (a missing file is removed). Uses a temporary index: no index of the user's is read
    or written."""
    with tempfile.TemporaryDirectory(prefix="fleetshift-index-") as tmp:
        index_env = {**env, "GIT_INDEX_FILE": str(Path(tmp) / "index")}
        git(["read-tree", parent], work, index_env)
        for start in range(0, len(paths), 200):
            git(["update-index", "--add", "--remove", "--", *paths[start:start + 200]], work, index_env)
        tree = git(["write-tree"], work, index_env)
    return git(["commit-tree", tree, "-p", parent, "-F", "-"], work, env, input=message)


def changed_paths(work: Path, base: str, commit: str) -> list[str]:
    out = git(["diff", "--name-only", "-z", base, commit], work)
    return [p for p in out.split("\0") if p]


def create_branch(repo: Path, branch: str, commit: str) -> None:
    """Create `branch` at `commit`; refuses to move a branch that already exists."""
    git(["update-ref", f"refs/heads/{branch}", commit, "0" * 40], repo)


def delete_branch(repo: Path, branch: str, commit: str) -> str:
    """Delete `branch` if it still points where this run left it; "deleted", "gone" or why it was kept."""
    now = git(["rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"], repo, check=False)
    if not now:
        return "gone"
    if now != commit:
        return f"it moved since the run ({commit[:10]} -> {now[:10]}); delete it by hand if it is not yours"
    git(["update-ref", "-d", f"refs/heads/{branch}", commit], repo)
    return "deleted"


def diffstat(work: Path, base: str, commit: str) -> str:
    return git(["diff", "--stat", base, commit], work)


# ---- what a run created ---------------------------------------------------------------------------------


@dataclass
class RepoRecord:
    """One repository a run worked in: where it is, the commit the run started from, what it created."""

    name: str
    repo: str  # the repository the branches are created in (the user's repo, or fleetshift's own clone)
    work: str  # the work tree the campaign rewrote (a worktree of the start commit, or the clone itself)
    prefix: str  # the folder of the campaign's fleet root inside `work` ("" when it is the top)
    start: str
    origin: str = ""  # the remote URL (multi-repo fleets)
    worktree: str = ""  # a worktree this run added ("" for none)
    branches: dict[str, str] = field(default_factory=dict)  # branch -> commit this run created it at
    services: dict[str, str] = field(default_factory=dict)  # service -> its branch
    fleet_prefix: str = ""  # the repo's folder inside the campaign's fleet root (multi-repo: its clone's name)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RepoRecord:
        return cls(**data)


@dataclass
class GitRecord:
    """Everything git a run set up and created: `<run dir>/git.json`."""

    mode: str  # "monorepo" or "multi-repo"
    branch_per: str = "service"
    repos: list[RepoRecord] = field(default_factory=list)
    note: str = ""
    allow_dirty: bool = False
    pushed: list[str] = field(default_factory=list)
    finished: bool = False

    def save(self, run_dir: Path) -> None:
        data = {**self.__dict__, "repos": [r.__dict__ for r in self.repos]}
        replace_file(run_dir / RECORD, json.dumps(data, indent=2) + "\n")

    @classmethod
    def load(cls, run_dir: Path) -> GitRecord | None:
        path = run_dir / RECORD
        if not path.is_file():
            return None
        data = json.loads(path.read_text("utf-8"))
        data["repos"] = [RepoRecord.from_json(r) for r in data.get("repos", [])]
        return cls(**data)


def branch_file(branch: str) -> str:
    """A branch name as a file name: `fleetshift/20260101-1/api` -> `fleetshift--20260101-1--api`."""
    return branch.replace("/", "--")
