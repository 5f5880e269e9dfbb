"""Multi-repo fleets: `[fleet] repos` cloned (shallow) into `.fleetshift/workspace/<repo>/` and kept up to date.

The workspace clones are fleetshift's own: a new run fetches each repository's default branch and resets its
clone to it (`checkout -f` + `clean -ffdx`), so earlier clones are reused and nothing of an earlier run stays.
The services of every clone are discovered together, with the workspace as the fleet root, so one campaign and
one dependency graph span the repositories. A local path is cloned through a file:// URL (a plain path ignores
`--depth`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from fleetshift.config import FleetConfig
from fleetshift.gitops import STATE_DIR, GitError, git

WORKSPACE = "workspace"
_SCP = re.compile(r"^[\w.+-]+@[\w.-]+:")


def workspace_root(root: Path) -> Path:
    return Path(root).resolve() / STATE_DIR / WORKSPACE


def is_url(spec: str) -> bool:
    return "://" in spec or bool(_SCP.match(spec))


def clone_url(root: Path, spec: str) -> str:
    """What `git clone` is given: a URL as written, a path (relative to the fleet root) as a file:// URL."""
    if is_url(spec):
        return spec
    path = Path(spec).expanduser()
    path = path if path.is_absolute() else (Path(root) / path)
    return path.resolve().as_uri()


def repo_name(spec: str) -> str:
    """The clone's folder: the repository's last path part without `.git` (`git@h:org/svc-c.git` -> svc-c)."""
    tail = re.split(r"[/:]", spec.rstrip("/"))[-1]
    tail = tail.removesuffix(".git") or "repo"
    return re.sub(r"[^A-Za-z0-9._-]+", "-", tail)


def repo_names(repos: tuple[str, ...]) -> list[tuple[str, str]]:
    """(folder name, spec) for each repository; a repeated name gets -2, -3 ..."""
    seen: dict[str, int] = {}
    out = []
    for spec in repos:
        name = repo_name(spec)
        seen[name] = seen.get(name, 0) + 1
        out.append((name if seen[name] == 1 else f"{name}-{seen[name]}", spec))
    return out


def sync(root: Path, config: FleetConfig, fetch: bool = True, say: Callable[[str], None] | None = None) -> Path:
    """Clone the missing repositories; with `fetch`, bring every earlier clone to its origin's default branch
    (fetch + reset). Returns the workspace folder. Raises GitError naming the repository that failed."""
    ws = workspace_root(root)
    ws.mkdir(parents=True, exist_ok=True)
    for name, spec in repo_names(config.repos):
        dest = ws / name
        url = clone_url(root, spec)
        if not (dest / ".git").exists():
            if dest.exists():
                raise GitError(f"{dest} exists but is not a git clone; remove it so fleetshift can clone {spec}")
            try:
                git(["clone", "--quiet", "--depth", "1", "--no-tags", url, str(dest)], ws)
            except GitError as exc:
                raise GitError(f"cannot clone {spec} (fleet.repos): {exc}. Fix: check the path or URL and your "
                               f"git access to it") from None
            if not git(["rev-parse", "--verify", "--quiet", "HEAD"], dest, check=False):
                import shutil

                shutil.rmtree(dest, ignore_errors=True)
                raise GitError(f"{spec} (fleet.repos) has no commit on its default branch (HEAD). Fix: push a branch "
                               f"and point the repository's HEAD at it (git symbolic-ref HEAD refs/heads/main)")
            git(["checkout", "--quiet", "--detach"], dest)
            if say:
                say(f"cloned {spec} into {dest}")
            continue
        if not fetch:
            continue
        git(["remote", "set-url", "origin", url], dest)
        try:
            git(["fetch", "--quiet", "--depth", "1", "--no-tags", "origin", "HEAD"], dest)
        except GitError as exc:
            raise GitError(f"cannot fetch {spec} (fleet.repos) into {dest}: {exc}") from None
        git(["checkout", "--quiet", "-f", "--detach", "FETCH_HEAD"], dest)
        git(["clean", "-ffdxq"], dest)
        if say:
            say(f"fetched {spec}: {dest} is at {git(['rev-parse', '--short', 'HEAD'], dest)}")
    return ws
