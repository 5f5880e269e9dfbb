"""Labels tell the truth: every site `check` and the plan call [auto] is one `run` rewrites (its line is among
the lines the run's diff changes), on the demo fleet and on every project of the corpus laid out as real ones."""

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
    changed = {c.file: _changed(c.old, c.new) for cs in rewrite_fleet(a.fleet, a.plan, a.config) for c in cs.changes}
    planned = {sp.service for sp in a.plan.services if sp.recipes}
    left = [
        f"{s.file}:{s.line} {s.rule}: {s.detail}"
        for inv in a.inventory.services if inv.service in planned
        for s in inv.sites
        if s.action is Action.AUTO and s.line not in changed.get(s.file, set())
    ]
    assert not left, "labelled [auto] but the run leaves them:\n" + "\n".join(left)
