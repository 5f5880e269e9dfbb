"""The collector's thresholds are raised while fleetshift scans and rewrites, and put back afterwards."""

from __future__ import annotations

import gc
import shutil
import threading
from pathlib import Path

import pytest

from fleetshift import gcpolicy
from fleetshift.pipeline import survey

DEMO = Path(__file__).resolve().parent.parent / "examples" / "homeiq"


def test_raised_inside_and_restored_after_nesting_and_threads() -> None:
    saved = gc.get_threshold()
    gc.set_threshold(700, 10, 10)  # CPython's defaults
    before = gc.get_threshold()
    inside: list[tuple[int, int, int]] = []
    ready, done = threading.Event(), threading.Event()

    def other() -> None:
        with gcpolicy.fewer_collections():
            ready.set()
            done.wait(5)
            inside.append(gc.get_threshold())

    t = threading.Thread(target=other)
    with gcpolicy.fewer_collections():
        t.start()
        ready.wait(5)
        with gcpolicy.fewer_collections():
            inside.append(gc.get_threshold())
        inside.append(gc.get_threshold())
    inside.append(gc.get_threshold())  # the other thread is still inside: still raised
    done.set()
    t.join(5)
    assert inside == [gcpolicy.THRESHOLDS] * 4
    assert gc.get_threshold() == before
    gc.set_threshold(*saved)


def test_a_scan_puts_the_thresholds_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "fleet"
    shutil.copytree(DEMO, root, ignore=shutil.ignore_patterns(".fleetshift"))
    gc.set_threshold(700, 10, 10)
    before = gc.get_threshold()
    seen: list[tuple[int, int, int]] = []
    import fleetshift.scan as scan

    parse = scan._parse

    def spying(rel: str, data: bytes) -> object:
        seen.append(gc.get_threshold())
        return parse(rel, data)

    monkeypatch.setattr(scan, "_parse", spying)
    survey(root, use_cache=False)
    assert seen and set(seen) == {gcpolicy.THRESHOLDS}
    assert gc.get_threshold() == before


def test_higher_thresholds_are_left_as_they_are() -> None:
    before = gc.get_threshold()
    try:
        gc.set_threshold(500_000, 10, 10)
        with gcpolicy.fewer_collections():
            assert gc.get_threshold() == (500_000, 10, 10)
        gcpolicy.raise_thresholds()
        assert gc.get_threshold() == (500_000, 10, 10)
    finally:
        gc.set_threshold(*before)


def test_a_fleet_rewrite_keeps_them_raised_between_services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fleetshift import rewrite
    from fleetshift.model import ChangeSet
    from fleetshift.pipeline import analyse

    root = tmp_path / "fleet"
    shutil.copytree(DEMO, root, ignore=shutil.ignore_patterns(".fleetshift"))
    a = analyse(root)
    saved = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    seen: list[tuple[int, int, int]] = []

    def spying(root: Path, service: object, chain: object, *args: object) -> ChangeSet:
        seen.append(gc.get_threshold())  # between two services' own raised blocks
        return ChangeSet(getattr(service, "name", ""))

    monkeypatch.setattr(rewrite, "rewrite_service", spying)
    try:
        rewrite.rewrite_fleet(a.fleet, a.plan, a.config)
        assert len(seen) > 1 and set(seen) == {gcpolicy.THRESHOLDS}
        assert gc.get_threshold() == (700, 10, 10)
    finally:
        gc.set_threshold(*saved)
