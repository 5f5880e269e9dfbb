"""`run --git` on a real git monorepo built from the demo's services: one branch and commit per kept service
from the start commit, in a worktree of its own; the user's branch, index and working tree never touched;
pull-request bodies; a dirty tree refused (and --allow-dirty); rollback deleting exactly what the run made."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from gitfleet import (
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
    snapshot,
)

SERVICES = ("services/calendar-service", "services/data-retention", "services/weather-api", "libs/homeiq-common")
CONFIG = '[fleet]\nservices = ["services/*", "libs/*"]\n' + TARGETS


@dataclass(frozen=True)
class Mono:
    repo: Path
    fleet: Path
    env: dict[str, str]
    start: str
    run_id: str
    before: dict[str, bytes]
    index: bytes
    out: str
    err: str
    code: int

    @property
    def results(self) -> dict[str, Any]:
        return results(self.fleet, self.run_id)

    def kept(self) -> dict[str, dict[str, Any]]:
        return {s["name"]: s for s in self.results["services"] if s["files_changed"]}


def build(base: Path, services: tuple[str, ...], config: str = CONFIG) -> tuple[Path, Path, dict[str, str], str]:
    """A repository whose folder `platform/` is the fleet (the top holds a README of its own)."""
    env = isolated_env(base / "home")
    repo = init_repo(base / "repo", env)
    fleet = repo / "platform"
    for rel in services:
        copy_service(rel, fleet / rel)
    (fleet / "fleetshift.toml").write_text(config, encoding="utf-8")
    (repo / "README.md").write_text("the platform monorepo\n", encoding="utf-8")
    start = commit_all(repo, "the fleet", env)
    return repo, fleet, env, start


# calendar-service's build fails: it is rolled back in the worktree and gets no branch
FAILING_BUILD = '\n[hooks]\nbuild = "test \\"$FLEETSHIFT_SERVICE\\" != calendar-service"\n'


@pytest.fixture(scope="module")
def mono(tmp_path_factory: pytest.TempPathFactory) -> Mono:
    config = CONFIG.replace("[fleet]\n", "[fleet]\nfailure_threshold = 1.0\n") + FAILING_BUILD
    repo, fleet, env, start = build(tmp_path_factory.mktemp("mono"), SERVICES, config)
    git(repo, "branch", "feature", env=env)  # the user's own branch: no run may touch it
    before = snapshot(repo)
    index = (repo / ".git" / "index").read_bytes()
    res = fleetshift("run", fleet, "--git", "--yes", "--no-verify", env=env)
    return Mono(repo, fleet, env, start, run_id_of(res.stdout), before, index, res.stdout, res.stderr, res.returncode)


def test_run_makes_one_branch_per_kept_service_from_the_start_commit(mono: Mono) -> None:
    assert mono.code == 1, mono.out + mono.err  # calendar-service failed
    statuses = {s["name"]: s["status"] for s in mono.results["services"]}
    assert statuses["calendar-service"] == "failed"
    kept = {name: s for name, s in mono.kept().items() if s["kept"]}
    assert set(kept) == {"data-retention", "homeiq-common"}  # not the failed one, not the no-op weather-api
    made = branches(mono.repo, env=mono.env)
    assert set(made) == {f"fleetshift/{mono.run_id}/{name}" for name in kept}
    for name, svc in kept.items():
        branch = f"fleetshift/{mono.run_id}/{name}"
        assert git(mono.repo, "rev-parse", f"{branch}^", env=mono.env) == mono.start
        changed = git(mono.repo, "diff", "--name-only", mono.start, branch, env=mono.env).splitlines()
        # exactly the service's changed files, inside its own folder
        assert sorted(changed) == sorted(f"platform/{f}" for f in svc["files_changed"])
        assert all(f.startswith(f"platform/{svc['path']}/") for f in changed)
        for f in changed:  # each committed file holds what the run wrote, not the original
            assert git(mono.repo, "show", f"{branch}:{f}", env=mono.env) != git(mono.repo, "show", f"{mono.start}:{f}", env=mono.env)
    assert "influxdb3-python" in git(mono.repo, "show", f"fleetshift/{mono.run_id}/data-retention:platform/services/data-retention/requirements.txt", env=mono.env)


def test_commit_message_names_recipes_evidence_and_findings(mono: Mono) -> None:
    svc = mono.kept()["data-retention"]
    branch = f"fleetshift/{mono.run_id}/data-retention"
    message = git(mono.repo, "log", "-1", "--format=%B", branch, env=mono.env)
    recipes = [m["recipe"] for m in svc["migrations"]]
    assert message.splitlines()[0] == f"data-retention: migrate {', '.join(recipes)} (fleetshift run {mono.run_id})"
    assert "Targets: " in message and "influxdb3-python >=0.17.0,<1 (replaces influxdb-client)" in message
    assert "Evidence: not verified (--no-verify)" in message
    assert f"Findings left for a human: {len(svc['findings'])}" in message
    for f in svc["files_changed"]:
        assert f"platform/{f}" in message
    # no git identity in this environment: fleetshift's own, and the run says so
    assert git(mono.repo, "log", "-1", "--format=%an <%ae>|%cn <%ce>", branch, env=mono.env) == \
        "fleetshift <fleetshift@localhost>|fleetshift <fleetshift@localhost>"
    assert "no git user.name/user.email is set" in mono.out


def test_users_branch_index_and_working_tree_are_untouched(mono: Mono) -> None:
    assert snapshot(mono.repo) == mono.before
    assert (mono.repo / ".git" / "index").read_bytes() == mono.index
    assert git(mono.repo, "symbolic-ref", "HEAD", env=mono.env) == "refs/heads/main"
    assert git(mono.repo, "rev-parse", "HEAD", env=mono.env) == mono.start
    assert git(mono.repo, "rev-parse", "feature", env=mono.env) == mono.start
    assert git(mono.repo, "status", "--porcelain", env=mono.env) == ""
    assert len(git(mono.repo, "worktree", "list", env=mono.env).splitlines()) == 1  # the run's worktree is gone
    assert git(mono.repo, "check-ignore", "platform/.fleetshift/worktrees/x", env=mono.env)  # the run's state is ignored
    assert not (mono.repo / ".gitignore").exists()


def test_pr_bodies_say_what_changed_findings_evidence_and_diffstat(mono: Mono, tmp_path: Path) -> None:
    res = fleetshift("pr", mono.fleet, env=mono.env)
    assert res.returncode == 0, res.stderr
    svc = mono.kept()["data-retention"]
    body = (run_dir(mono.fleet, mono.run_id) / "prs" / f"fleetshift--{mono.run_id}--data-retention.md").read_text()
    assert body.startswith("# data-retention: migrate ")
    assert "## What changed and why" in body and "**influxdb3**" in body and "advisory:" in body
    assert svc["findings"]
    for f in svc["findings"]:
        assert f"`platform/{f['file']}:{f['line']}` `{f['rule']}`" in body  # as the repository sees it
        assert f"`platform/{f['file']}:{f['line']}`" in res.stdout
    assert "**Not verified** (`--no-verify`)" in body
    assert "## Diffstat" in body and "files changed" in body
    written = fleetshift("pr", mono.fleet, "--run", mono.run_id, "--write", tmp_path / "prs", env=mono.env)
    assert written.returncode == 0, written.stderr
    assert sorted(p.name for p in (tmp_path / "prs").iterdir()) == sorted(
        f"fleetshift--{mono.run_id}--{name}.md" for name in ("data-retention", "homeiq-common"))


def test_rollback_deletes_exactly_the_branches_the_run_made(mono: Mono) -> None:
    first = branches(mono.repo, env=mono.env)
    again = fleetshift("run", mono.fleet, "--git", "--yes", "--no-verify", "--service", "homeiq-common",
                       "--service", "data-retention", env=mono.env)
    assert again.returncode == 0, again.stdout + again.stderr
    second = run_id_of(again.stdout)
    made = {b for b in branches(mono.repo, env=mono.env) if second in b}
    assert made == {f"fleetshift/{second}/homeiq-common", f"fleetshift/{second}/data-retention"}
    # someone commits on one of them: rollback keeps that branch and says so
    moved = f"fleetshift/{second}/homeiq-common"
    tip = git(mono.repo, "rev-parse", moved, env=mono.env)
    tree = git(mono.repo, "rev-parse", f"{tip}^{{tree}}", env=mono.env)
    mine = git(mono.repo, "-c", "user.name=x", "-c", "user.email=x@x", "commit-tree", tree, "-p", tip, "-m", "mine",
               env=mono.env)
    git(mono.repo, "update-ref", f"refs/heads/{moved}", mine, env=mono.env)
    res = fleetshift("rollback", mono.fleet, "--run", second, env=mono.env)
    assert res.returncode == 1
    assert f"deleted branch fleetshift/{second}/data-retention" in res.stdout
    assert f"kept branch {moved}: it moved since the run" in res.stderr
    after = branches(mono.repo, env=mono.env)
    assert after == {**first, moved: mine}  # the first run's branches stay, and the user's work
    assert git(mono.repo, "rev-parse", "feature", env=mono.env) == mono.start
    assert snapshot(mono.repo) == mono.before
    res = fleetshift("rollback", mono.fleet, "--run", mono.run_id, env=mono.env)
    assert res.returncode == 0, res.stdout + res.stderr
    assert set(branches(mono.repo, env=mono.env)) == {moved}
    assert not list((run_dir(mono.fleet, mono.run_id) / "prs").iterdir())  # the bodies of deleted branches go too
    assert git(mono.repo, "rev-parse", "feature", env=mono.env) == mono.start
    assert snapshot(mono.repo) == mono.before


def test_dirty_tree_is_refused_and_allow_dirty_leaves_the_changes_out(tmp_path: Path) -> None:
    config = CONFIG + '\n[git]\nenabled = true\nbranch_per = "phase"\n'
    repo, fleet, env, start = build(tmp_path, ("services/calendar-service",), config)
    git(repo, "config", "user.name", "Fleet Owner", env=env)
    git(repo, "config", "user.email", "owner@example.invalid", env=env)
    tracked = fleet / "services/calendar-service/requirements.txt"
    tracked.write_text(tracked.read_text() + "# local edit\n")
    (fleet / "services/calendar-service/notes.txt").write_text("scratch\n")
    before = snapshot(repo)
    res = fleetshift("run", fleet, "--yes", "--no-verify", env=env)  # [git] enabled: a git run without --git
    assert res.returncode == 2
    assert "uncommitted changes" in res.stderr and "--allow-dirty" in res.stderr
    assert "platform/services/calendar-service/requirements.txt" in res.stderr
    assert "platform/services/calendar-service/notes.txt" in res.stderr
    assert not (fleet / ".fleetshift" / "runs").exists() and branches(repo, env=env) == {}
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin), env=env)
    git(repo, "remote", "add", "origin", str(origin), env=env)
    res = fleetshift("run", fleet, "--yes", "--no-verify", "--allow-dirty", "--push", env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "are not part of the branches" in res.stderr
    run_id = run_id_of(res.stdout)
    made = branches(repo, env=env)
    assert list(made) == [f"fleetshift/{run_id}/phase-{p}" for p in "abcd"
                          if f"fleetshift/{run_id}/phase-{p}" in made] and len(made) == 1
    branch = next(iter(made))
    assert git(repo, "rev-parse", f"{branch}^", env=env) == start
    assert "# local edit" not in git(repo, "show", f"{branch}:platform/services/calendar-service/requirements.txt", env=env)
    assert "notes.txt" not in git(repo, "ls-tree", "-r", "--name-only", branch, env=env)
    assert git(repo, "log", "-1", "--format=%an <%ae>", branch, env=env) == "Fleet Owner <owner@example.invalid>"
    assert snapshot(repo) == before  # the uncommitted changes are still there, as they were
    assert branches(origin, env=env) == made  # --push: git push origin <branch>
    res = fleetshift("rollback", fleet, env=env)
    assert res.returncode == 0 and branches(repo, env=env) == {}
    assert f"left on the remote: {branch}" in res.stdout and branches(origin, env=env) == made


def test_a_verified_git_run_waiting_for_approval_resumes_and_commits_the_test_evidence(tmp_path: Path) -> None:
    config = '[fleet]\nservices = ["services/*"]\ncritical = ["ai-core-service"]\n' + TARGETS
    repo, fleet, env, start = build(tmp_path, ("services/ai-core-service",), config)
    before = snapshot(repo)
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin), env=env)
    git(repo, "remote", "add", "origin", str(origin), env=env)
    res = fleetshift("run", fleet, "--git", "--push", env=env)  # phase D, no terminal: it stops before the service
    assert res.returncode == 3, res.stdout + res.stderr
    assert branches(origin, env=env) == {}
    assert f"fleetshift resume {fleet}" in res.stdout and ".fleetshift/worktrees" not in res.stdout
    run_id = run_id_of(res.stdout)
    assert (fleet / ".fleetshift" / "worktrees" / run_id).is_dir() and branches(repo, env=env) == {}
    res = fleetshift("resume", fleet, "--yes", env=env)  # no --push: the run was started with it
    assert res.returncode == 0, res.stdout + res.stderr
    assert list(branches(repo, env=env)) == [f"fleetshift/{run_id}/ai-core-service"]
    assert branches(origin, env=env) == branches(repo, env=env)  # pushed when the resumed run finished
    assert not (fleet / ".fleetshift" / "worktrees" / run_id).exists()
    branch = f"fleetshift/{run_id}/ai-core-service"
    assert git(repo, "rev-parse", f"{branch}^", env=env) == start
    svc = results(fleet, run_id)["services"][0]
    assert svc["verdict"] == "passed"
    before_n, after_n = svc["tests"]["before"]["passed"], svc["tests"]["after"]["passed"]
    assert before_n > 0 and after_n >= before_n
    message = git(repo, "log", "-1", "--format=%B", branch, env=env)
    assert f"Evidence: baseline (old pins) {before_n} passed; after (new pins) {after_n} passed" in message
    body = (run_dir(fleet, run_id) / "prs" / f"fleetshift--{run_id}--ai-core-service.md").read_text()
    assert f"| passed | {before_n} | {after_n} |" in body and "Verdict: **passed**" in body and "Ran: pytest" in body
    assert sorted(git(repo, "diff", "--name-only", start, branch, env=env).splitlines()) == sorted(
        f"platform/{f}" for f in svc["files_changed"])
    assert snapshot(repo) == before


CORPUS = Path(__file__).resolve().parent / "projects"


@pytest.mark.parametrize("project", ["uv-project", "pip-compiled"])
def test_a_repository_that_is_one_service_gets_its_branch(project: str, tmp_path: Path) -> None:
    """A real layout, not the demo's: the repository root is the service (its own pyproject/requirements, lock,
    tests), and the branch holds exactly the files the run changed there."""
    env = isolated_env(tmp_path / "home")
    repo = init_repo(tmp_path / project, env)
    shutil.copytree(CORPUS / project, repo, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".fleetshift", "__pycache__"))
    start = commit_all(repo, "the project", env)
    before = snapshot(repo)
    res = fleetshift("run", repo, "--git", "--yes", "--no-verify", env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    run_id = run_id_of(res.stdout)
    services = [s for s in results(repo, run_id)["services"] if s["files_changed"]]
    assert len(services) == 1 and services[0]["path"] in (".", ""), services
    made = branches(repo, env=env)
    assert list(made) == [f"fleetshift/{run_id}/{services[0]['name']}"]
    branch = next(iter(made))
    assert git(repo, "rev-parse", f"{branch}^", env=env) == start
    changed = git(repo, "diff", "--name-only", start, branch, env=env).splitlines()
    assert sorted(changed) == sorted(services[0]["files_changed"]) and changed
    assert snapshot(repo) == before  # the user's checkout is as it was
    assert git(repo, "status", "--porcelain", env=env) == ""
