"""The demo fleet in git: as one monorepo (`demo --git`), or as three repositories behind local bare remotes
(`demo --multi-repo`), so a newcomer sees branches, commits, pull-request bodies and pushes without a server."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from fleetshift.gitops import git, identity

# The demo's services as three repositories; the services that use homeiq-common through a relative path
# stay in its repository, so their `-e ../../libs/homeiq-common` still resolves.
MULTI_REPO = {
    "homeiq-core": ("libs/homeiq-common", "services/api-automation-edge", "services/data-api", "services/data-retention",
                    "services/device-registry", "services/energy-correlator", "services/ha-simulator",
                    "services/rag-service", "services/usage-reports", "services/websocket-ingestion"),
    "homeiq-edge": ("services/automation-miner", "services/calendar-service"),
    "homeiq-assistants": ("services/ai-core-service", "services/weather-api"),
}


def _commit(repo: Path, message: str) -> None:
    env, _ = identity(repo)
    git(["add", "-A"], repo, env)
    git(["commit", "--quiet", "-m", message], repo, env)


def monorepo(fleet: Path) -> None:
    """Make the copied demo fleet a git repository with one commit."""
    git(["init", "--quiet", "-b", "main"], fleet)
    _commit(fleet, "the homeiq fleet")


def multirepo(copy: Path, base: Path) -> Path:
    """Split the copied demo fleet into three repositories pushed to bare remotes under `base/remotes`, and
    write a fleet folder `base/fleet` whose fleetshift.toml lists them; returns that folder."""
    remotes = base / "remotes"
    repos = []
    for name, parts in MULTI_REPO.items():
        work = base / "work" / name
        for rel in parts:
            shutil.copytree(copy / rel, work / rel)
        git(["init", "--quiet", "-b", "main"], work)
        _commit(work, f"{name}: {len(parts)} project(s) of the homeiq fleet")
        bare = remotes / f"{name}.git"
        git(["init", "--quiet", "--bare", "-b", "main", str(bare)], base)
        git(["push", "--quiet", str(bare), "main"], work)
        repos.append(f"../remotes/{name}.git")
    fleet = base / "fleet"
    fleet.mkdir()
    config = (copy / "fleetshift.toml").read_text(encoding="utf-8")
    listed = ", ".join(f'"{r}"' for r in repos)
    config = re.sub(r"(?m)^services = .*$", f"repos = [{listed}]\nservices = [\"*/services/*\", \"*/libs/*\"]", config)
    (fleet / "fleetshift.toml").write_text(config, encoding="utf-8")
    shutil.rmtree(copy)
    return fleet
