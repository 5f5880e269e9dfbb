"""Labels tell the truth: every site `check` and the plan call [auto] is one `run` rewrites (its line is among
the lines the run's diff changes), on the demo fleet and on every project of the corpus laid out as real ones;
a planned recipe the run does not apply is one it says it blocked."""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest

from fleetshift.model import Action
from fleetshift.pipeline import analyse
from fleetshift.rewrite import rewrite_fleet

ROOT = Path(__file__).resolve().parents[1]
FLEETS = [ROOT / "examples" / "homeiq", *sorted(p for p in (ROOT / "tests" / "projects").iterdir() if p.is_dir())]


def _changed(old: bytes | None, new: bytes | None) -> set[int]:
    a = (old or b"").decode("utf-8", "replace").splitlines()
    b = (new or b"").decode("utf-8", "replace").splitlines()
    out: set[int] = set()
    for tag, i1, i2, _, _ in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag != "equal":
            out.update(range(i1 + 1, max(i2, i1 + 1) + 1))
    return out


@pytest.mark.parametrize("fleet", FLEETS, ids=lambda p: p.name)
def test_every_auto_site_is_one_the_run_rewrites(fleet: Path, tmp_path: Path) -> None:
    root = tmp_path / fleet.name
    shutil.copytree(fleet, root, ignore=shutil.ignore_patterns(".fleetshift", ".venv", "__pycache__"))
    a = analyse(root, use_cache=False)
    changesets = rewrite_fleet(a.fleet, a.plan, a.config)
    changed = {c.file: _changed(c.old, c.new) for cs in changesets for c in cs.changes}
    # The recipes each run applied. A recipe the Python floor blocks for a service is not applied; only the run
    # asks the resolver, so scan cannot know: the run must then say so ("blocked by Python 3.X ... was not
    # applied"), and that Finding is what the user reads for its sites.
    applied = {cs.service: set(cs.recipes) for cs in changesets}
    left = [
        f"{s.file}:{s.line} {s.rule}: {s.detail}"
        for inv in a.inventory.services
        for s in inv.sites
        if s.action is Action.AUTO and s.recipe in applied.get(inv.service, set())
        and s.line not in changed.get(s.file, set())
    ]
    said = {(cs.service, f.recipe) for cs in changesets for f in cs.findings if "was not applied" in f.message}
    for sp in a.plan.services:
        for recipe in set(sp.recipes) - applied.get(sp.service, set()):
            assert (sp.service, recipe) in said, f"{sp.service}: {recipe} planned, not applied, and no Finding says why"
    assert not left, "labelled [auto] but the run leaves them:\n" + "\n".join(left)
