"""A fleet of three repositories (local bare remotes, no network) built from the demo's services: cloned into
`.fleetshift/workspace/`, planned as one campaign with a dependency across repositories, one branch per
repository with one commit per kept service, pushed with --push, clones reused by the next run, rollback."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from gitfleet import (
    DEMO,
    TARGETS,
    branches,
    commit_all,
    copy_service,
    fleetshift,
    git,
    init_repo,
    isolated_env,
    results,
    run_dir,
    run_id_of,
)

from fleetshift.config import ConfigError, load_config
from fleetshift.workspace import clone_url, repo_name, repo_names


@dataclass(frozen=True)
class Multi:
    base: Path
    fleet: Path
    env: dict[str, str]
    remotes: dict[str, Path]
    starts: dict[str, str]
    run_id: str
    out: str
    err: str
    code: int


def remote(base: Path, name: str, env: dict[str, str], fill: dict[str, str]) -> tuple[Path, str]:
    """A bare repository `remotes/<name>.git` holding the demo services `fill` (demo folder -> folder in the repo;
    "." makes the service the repository itself)."""
    work = init_repo(base / "work" / name, env)
    for src, dest in fill.items():
        if dest == ".":
            shutil.copytree(DEMO / src, work, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            copy_service(src, work / dest)
    start = commit_all(work, f"{name}: the services", env)
    bare = base / "remotes" / f"{name}.git"
    git(base, "init", "-q", "--bare", "-b", "main", str(bare), env=env)
    git(work, "push", "-q", str(bare), "main", env=env)
    return bare, start


@pytest.fixture(scope="module")
def multi(tmp_path_factory: pytest.TempPathFactory) -> Multi:
    base = tmp_path_factory.mktemp("multi")
    env = isolated_env(base / "home")
    libs, libs_start = remote(base, "platform-libs", env, {"libs/homeiq-common": "libs/homeiq-common"})
    # devices consumes the library by its published name (no path): the edge crosses repositories
    work = base / "staging"
    copy_service("services/device-registry", work / "device-registry")
    req = work / "device-registry" / "requirements.txt"
    req.write_text(req.read_text().replace("-e ../../libs/homeiq-common", "homeiq-common>=0.1"))
    devices, devices_start = remote(base, "devices", env, {"services/calendar-service": "services/calendar-service"})
    shutil.copytree(work / "device-registry", base / "work" / "devices" / "services" / "device-registry")
    devices_start = commit_all(base / "work" / "devices", "device-registry", env)
    git(base / "work" / "devices", "push", "-q", str(devices), "main", env=env)
    ai, ai_start = remote(base, "ai-core-service", env, {"services/ai-core-service": "."})
    fleet = base / "fleet"
    fleet.mkdir()
    (fleet / "repos.txt").write_text(f"# the third one, as a URL\n{ai.as_uri()}\n")
    (fleet / "fleetshift.toml").write_text(
        f'[fleet]\nrepos = ["../remotes/platform-libs.git", "{devices}"]\nrepos_file = "repos.txt"\n' + TARGETS
        + f'\n[git]\npr_command = "echo {{repo}} {{branch}} {{title}} {{body}} >> {base / "opened.log"}"\n')
    res = fleetshift("run", fleet, "--yes", "--no-verify", "--push", env=env)
    return Multi(base, fleet, env, {"platform-libs": libs, "devices": devices, "ai-core-service": ai},
                 {"platform-libs": libs_start, "devices": devices_start, "ai-core-service": ai_start},
                 run_id_of(res.stdout), res.stdout, res.stderr, res.returncode)


def test_repos_config_names_and_urls(tmp_path: Path) -> None:
    assert repo_name("git@host:org/svc-c.git") == "svc-c"
    assert repo_name("/abs/path/svc-b.git") == "svc-b"
    assert repo_name("https://example.com/org/svc-a/") == "svc-a"
    assert [n for n, _ in repo_names(("../a/x.git", "/b/x"))] == ["x", "x-2"]
    assert clone_url(tmp_path, "../svc-a") == (tmp_path.parent / "svc-a").as_uri()  # a path clones shallow through file://
    assert clone_url(tmp_path, "git@host:org/svc-c.git") == "git@host:org/svc-c.git"
    (tmp_path / "fleetshift.toml").write_text('[fleet]\nrepos = ["../outside"]\nrepos_file = "r.txt"\n')
    (tmp_path / "r.txt").write_text("# comment\n\n/abs/svc-b.git\n../outside\n")
    assert load_config(tmp_path).repos == ("../outside", "/abs/svc-b.git")  # listed repos outside the root are fine
    for bad, key in (('[git]\nbranch_per = "repo"\n', "git.branch_per"), ("[git]\nenabled = 1\n", "git.enabled"),
                     ("[git]\npr_cmd = 'x'\n", "git.pr_cmd"), ("[fleet]\nrepos_file = \"missing.txt\"\n", "fleet.repos_file")):
        (tmp_path / "fleetshift.toml").write_text(bad)
        with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
            load_config(tmp_path)


def test_one_campaign_across_repos_one_branch_per_repo_pushed(multi: Multi) -> None:
    assert multi.code == 0, multi.out + multi.err
    ws = multi.fleet / ".fleetshift" / "workspace"
    assert sorted(p.name for p in ws.iterdir() if (p / ".git").exists()) == sorted(multi.remotes)
    assert git(ws / "devices", "rev-parse", "--is-shallow-repository", env=multi.env) == "true"
    r = results(multi.fleet, multi.run_id)
    by_name = {s["name"]: s for s in r["services"]}
    assert set(by_name) == {"homeiq-common", "device-registry", "calendar-service", "ai-core-service"}
    branch = f"fleetshift/{multi.run_id}"
    for name, bare in multi.remotes.items():
        # pushed to the bare remote with the user's own git (nothing stored)
        assert branches(bare, env=multi.env) == branches(ws / name, env=multi.env)
        assert branch in branches(bare, env=multi.env)
        commits = git(bare, "rev-list", "--reverse", f"{multi.starts[name]}..{branch}", env=multi.env).splitlines()
        mine = [s for s in r["services"] if s["path"] == name or s["path"].startswith(name + "/")]
        kept = [s for s in mine if s["files_changed"]]
        assert len(commits) == len(kept)  # one commit per kept service, on the repository's start commit
        for sha in commits:
            subject = git(bare, "log", "-1", "--format=%s", sha, env=multi.env)
            svc = by_name[subject.split(":")[0]]
            changed = git(bare, "diff", "--name-only", f"{sha}^", sha, env=multi.env).splitlines()
            prefix = svc["path"].removeprefix(name).lstrip("/")
            assert sorted(changed) == sorted(f.removeprefix(name + "/") for f in svc["files_changed"])
            assert all(f.startswith(prefix) for f in changed)
        body = run_dir(multi.fleet, multi.run_id) / "prs" / f"{name}--fleetshift--{multi.run_id}.md"
        assert body.is_file()
        for s in kept:
            for f in s["findings"]:  # file:line as the repository sees it
                at = f["file"].removeprefix(name + "/") + (f":{f['line']}" if f["line"] else "")
                assert f"`{at}` `{f['rule']}`" in body.read_text()
    assert git(multi.remotes["devices"], "rev-parse", "main", env=multi.env) == multi.starts["devices"]  # main untouched


def test_pr_command_runs_per_pushed_branch(multi: Multi) -> None:
    lines = sorted((multi.base / "opened.log").read_text().splitlines())
    assert len(lines) == 3
    for line, name in zip(lines, sorted(multi.remotes), strict=True):
        repo, branch, *rest = line.split()
        assert (repo, branch) == (name, f"fleetshift/{multi.run_id}")
        body = Path(rest[-1])
        assert body.is_file() and body.read_text().startswith("# " + " ".join(rest[:-1]))


def test_the_dependency_graph_crosses_repositories(multi: Multi) -> None:
    res = fleetshift("plan", multi.fleet, "--json", env=multi.env)
    assert res.returncode == 0, res.stderr
    import json

    plan = json.loads(res.stdout)
    services = {s["service"]: s for s in plan["services"]}
    assert services["device-registry"]["depends_on"] == ["homeiq-common"]
    assert services["homeiq-common"]["order"] < services["device-registry"]["order"]


def test_rerun_reuses_the_clones_and_fetches_new_commits(multi: Multi) -> None:
    ws = multi.fleet / ".fleetshift" / "workspace"
    marker = ws / "ai-core-service" / ".git" / "fleetshift-test-marker"
    marker.write_text("the same clone\n")
    work = multi.base / "work" / "ai-core-service"
    (work / "NOTES.md").write_text("a new commit upstream\n")
    new = commit_all(work, "notes", multi.env)
    git(work, "push", "-q", str(multi.remotes["ai-core-service"]), "main", env=multi.env)
    res = fleetshift("run", multi.fleet, "--yes", "--no-verify", "--service", "ai-core-service", env=multi.env)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "cloned" not in res.stdout and "fetched" in res.stdout
    assert marker.is_file()  # reused, not cloned again
    second = run_id_of(res.stdout)
    branch = f"fleetshift/{second}"
    assert git(ws / "ai-core-service", "rev-parse", f"{branch}^", env=multi.env) == new
    assert branch not in branches(multi.remotes["ai-core-service"], env=multi.env)  # no --push: nothing pushed
    # rollback deletes exactly that run's branch in fleetshift's clone, and nothing else
    res = fleetshift("rollback", multi.fleet, "--run", second, env=multi.env)
    assert res.returncode == 0, res.stdout + res.stderr
    assert branch not in branches(ws / "ai-core-service", env=multi.env)
    assert f"fleetshift/{multi.run_id}" in branches(ws / "ai-core-service", env=multi.env)


def test_demo_runs_as_a_multi_repo_fleet_from_local_bare_remotes(tmp_path: Path) -> None:
    env = isolated_env(tmp_path / "home")
    res = fleetshift("demo", "--multi-repo", "--no-verify", "--dir", tmp_path / "demo", env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    run_id = run_id_of(res.stdout)
    remotes = tmp_path / "demo" / "remotes"
    assert sorted(p.name for p in remotes.iterdir()) == ["homeiq-assistants.git", "homeiq-core.git", "homeiq-edge.git"]
    for bare in remotes.iterdir():
        assert f"fleetshift/{run_id}" in branches(bare, env=env)
    prs = sorted(p.name for p in (run_dir(tmp_path / "demo" / "fleet", run_id) / "prs").iterdir())
    assert prs == sorted(f"{p.name.removesuffix('.git')}--fleetshift--{run_id}.md" for p in remotes.iterdir())
