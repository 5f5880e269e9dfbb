"""Orchestration: apply ChangeSets through the journal, service by service, in plan order."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fleetshift.journal import Journal
from fleetshift.model import ChangeSet


def apply_changes(root: Path, changesets: Sequence[ChangeSet], meta: dict[str, Any] | None = None) -> Journal:
    """Write every change through a new journal run (no verification); returns the journal."""
    journal = Journal.start(root, meta)
    for cs in changesets:
        if not cs.changes:
            continue
        journal.set_step(cs.service, "rewrite", "running")
        for change in cs.changes:
            journal.write(cs.service, change.file, change.new, change.recipes, expect=change.old)
        journal.set_step(cs.service, "rewrite", "done", f"{len(cs.changes)} file(s)")
    journal.set_status("completed")
    return journal
