"""What a run changed, file by file, as unified diffs for the reports: read from the run folder alone.

The journal records every write with the hash of the bytes before and after, and keeps the bytes before in
its content-addressed store. The bytes after are in the fleet while the change is kept (checked against the
recorded hash), or in the store when a later write backed them up. A change that was rolled back is
recomputed by the same rewrite and shown when its hash matches the journal's; a file edited by hand since, or
a change that cannot be recomputed exactly, is named with the reason its diff cannot be shown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from fleetshift.fsutil import ABSENT, BlobStore, sha
from fleetshift.journal import read_state
from fleetshift.model import FileChange

if TYPE_CHECKING:
    from rich.console import Console

    from fleetshift.model import ChangeSet

MAX_DIFF_CHARS = 200_000  # per file; a longer diff is cut with a note (the fleet holds the whole file)


@dataclass(frozen=True)
class FileDiff:
    """One changed file of a service: its unified diff (empty when it cannot be shown) and a note."""

    file: str
    diff: str
    recipes: tuple[str, ...] = ()
    note: str = ""
    kept: bool = True


def service_changes(run_dir: Path, state: dict[str, Any] | None = None,
                    meanwhile: Callable[[], object] | None = None) -> dict[str, list[FileDiff]]:
    """Per service, its changed files in write order, each as a diff from the bytes before the run's first
    write to the bytes after its last. `meanwhile()` is run here once, while a forked process makes its part of
    the diffs when they are shared (see `_made`), before this process makes its own."""
    state = state if state is not None else read_state(run_dir)
    blobs = BlobStore(run_dir / "blobs")
    root = Path(state["fleet_root"])
    chains: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for name, svc in state["services"].items():
        for e in svc.get("files", []):
            if e["state"] in ("done", "rolled-back"):
                chains.setdefault(name, {}).setdefault(e["path"], []).append(e)
    lost = {name: {rel: chain[-1]["after"] for rel, chain in files.items()
                   if chain[-1]["state"] != "done" and chain[-1]["after"] != ABSENT and blobs.load(chain[-1]["after"]) is None}
            for name, files in chains.items()}
    redone = recomputed(state, {name: files for name, files in lost.items() if files})
    work = [(name, rel, chain) for name, files in chains.items() for rel, chain in files.items()]
    out: dict[str, list[FileDiff]] = {}
    for (name, _, _), diff in zip(work, _made(work, lambda w: _file_diff(root, blobs, redone, *w), meanwhile), strict=True):
        out.setdefault(name, []).append(diff)
    return out


def _file_diff(root: Path, blobs: BlobStore, redone: dict[tuple[str, str], bytes], name: str, rel: str,
               chain: list[dict[str, Any]]) -> FileDiff:
    """One changed file's diff (from the bytes before the chain's first write to those after its last) and note."""
    first, last = chain[0], chain[-1]
    kept = last["state"] == "done"
    old = None if first["before"] == ABSENT else blobs.load(first["before"])
    new, note = redone.get((name, rel)), ""
    if new is None:
        new, note = _after(root / rel, last["after"], blobs, kept)
    recipes = tuple(dict.fromkeys(r for e in chain for r in e["recipes"]))
    if old is None and first["before"] != ABSENT:
        note = note or "the backup of its old bytes is missing"
        new = None
    if new is None and last["after"] != ABSENT:
        return FileDiff(rel, "", recipes, note, kept)
    from fleetshift.rewrite import unified_diff

    text = unified_diff(FileChange(rel, old, new))
    if len(text) > MAX_DIFF_CHARS:
        text = text[:MAX_DIFF_CHARS] + "\n"
        note = f"diff cut at {MAX_DIFF_CHARS} characters"
    if not kept:
        note = "rolled back: the file holds its old bytes again"
    return FileDiff(rel, text, recipes, note, kept)


FORK_MIN_FILES = 200  # the diffs of a run that changed fewer files are made by this process alone


T = TypeVar("T")
W = TypeVar("W")


def _made(work: list[W], make: Callable[[W], T], meanwhile: Callable[[], object] | None) -> list[T]:
    """`make` of each item of `work`, in order, with `meanwhile()` run once. The reports end a run on one core: for a
    large run a forked process makes part of them (the files read and diffed there) while this one runs `meanwhile`
    and makes the rest, when this process may fork (`forked.may_fork`); the child's part is made here when it fails.
    The same function on the same files either way. The child takes three items of every five when this process
    has `meanwhile` to run besides its part (the reports' other pages), every other item when not."""
    from fleetshift import forked

    if len(work) < FORK_MIN_FILES or not forked.may_fork():
        if meanwhile is not None:
            meanwhile()
        return [make(w) for w in work]
    theirs_at = [i for i in range(len(work)) if (i % 5 < 3 if meanwhile is not None else i % 2 == 0)]
    mine_at = sorted(set(range(len(work))) - set(theirs_at))

    def here(alive: Callable[[], bool]) -> list[T]:
        if meanwhile is not None:
            meanwhile()
        return [make(work[i]) for i in mine_at]

    mine, theirs = forked.share(lambda: [make(work[i]) for i in theirs_at], here)
    if not isinstance(theirs, list) or len(theirs) != len(theirs_at):
        theirs = [make(work[i]) for i in theirs_at]
    made: list[Any] = [None] * len(work)
    for i, item in zip(mine_at, mine, strict=True):
        made[i] = item
    for i, item in zip(theirs_at, theirs, strict=True):
        made[i] = item
    return made


def recomputed(state: dict[str, Any], wanted: dict[str, dict[str, str]]) -> dict[tuple[str, str], bytes]:
    """The bytes a run wrote and then rolled back, recomputed: the same rewrite (the run's plan, recipes and
    options) applied again to the files, which hold their old bytes again. Only bytes whose hash is the one
    the journal recorded are returned, so a diff shown is exactly the change that was tried. `wanted`:
    service -> path -> hash after."""
    if not wanted:
        return {}
    from fleetshift.config import load_config
    from fleetshift.discover import discover
    from fleetshift.model import Phase, Selection
    from fleetshift.rewrite import RewriteOptions, rewrite_fleet
    from fleetshift.runner import plan_from_snapshot

    meta = state.get("meta", {})
    root = Path(state["fleet_root"])
    try:
        config = load_config(root)
        fleet = discover(root, config)
        plan = plan_from_snapshot(str(root), meta.get("plan", {}))
        selection = Selection(tuple(Phase), tuple(wanted), tuple(meta.get("recipes", ())))
        changesets = rewrite_fleet(fleet, plan, config, RewriteOptions(selection, bool(meta.get("todo_comments"))))
    except Exception:  # the report goes on without these diffs; the page says why each is missing
        return {}
    out: dict[tuple[str, str], bytes] = {}
    for cs in changesets:
        for change in cs.changes:
            digest = wanted.get(cs.service, {}).get(change.file)
            if digest and change.new is not None and sha(change.new) == digest:
                out[(cs.service, change.file)] = change.new
    return out


def _after(path: Path, digest: str, blobs: BlobStore, kept: bool) -> tuple[bytes | None, str]:
    """The bytes a write left (None when the write deleted the file or they are gone) and why they are gone."""
    if digest == ABSENT:
        return None, ""
    stored = blobs.load(digest)
    if stored is not None:
        return stored, ""
    if kept:
        try:
            data = path.read_bytes()
        except OSError:
            return None, "the file is gone from the fleet since the run"
        if sha(data) == digest:
            return data, ""
        return None, "edited since the run: the fleet no longer holds the bytes the run wrote"
    return None, "rolled back: the file holds its old bytes again, and the run's new bytes were not kept"


def print_changesets(console: Console, changesets: Iterable[ChangeSet]) -> None:
    """Proposed changes as `run --dry-run` prints them: per service a rule, its unified diffs, its findings,
    then a count of what would change."""
    from fleetshift.rewrite import unified_diff

    changesets = list(changesets)
    for cs in changesets:
        if not cs.changes and not cs.findings:
            continue
        console.rule(f"{cs.service}: {', '.join(cs.recipes) or 'no-op'}")
        for change in cs.changes:
            console.file.write(unified_diff(change))
        for f in cs.findings:
            console.print(f"{f.location()}: {f.rule}: {f.message}")
    n_files = sum(len(c.changes) for c in changesets)
    console.print(f"dry run: {n_files} file(s) would change in {sum(1 for c in changesets if c.changes)} service(s); "
                  "nothing was written.")
