"""Fixtures shared by several test modules."""

from __future__ import annotations

import sys
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
