"""Fixtures shared by several test modules."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small fleet shaped like real services (benchmarks/fleetgen.py: 8 services, 30 % of the files holding a
    site of a migrated library). Tests that change it work on a copy."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from fleetgen import generate

    root = tmp_path_factory.mktemp("fleetgen") / "fleet"
    generate(root, 8, 34, 0.3)
    return root


@pytest.fixture
def record_calls(monkeypatch: pytest.MonkeyPatch) -> Callable[[object, str], list[object]]:
    """A spy: `record_calls(owner, "name")` replaces the one-argument function `owner.name` for the test by one that
    calls it and records its argument; it returns the list of the arguments, in the order of the calls."""

    def spy(owner: object, name: str) -> list[object]:
        seen: list[object] = []
        real = getattr(owner, name)

        def recording(arg: object) -> object:
            seen.append(arg)
            return real(arg)

        monkeypatch.setattr(owner, name, recording)
        return seen

    return spy
