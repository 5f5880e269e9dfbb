"""The scan drops the `ast` trees of a service once its scan is done, when the cyclic collector is on (kept, they
are what each collection walks); with the collector off (`scan --json`) they are kept for the parses that follow.
Either way the scan finds the same."""

from __future__ import annotations

import gc
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from fleetshift.model import to_jsonable
from fleetshift.pipeline import survey
from fleetshift.recipes import _ast

HOMEIQ = Path(__file__).parents[1] / "examples" / "homeiq"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("trees") / "homeiq"
    shutil.copytree(HOMEIQ, root, ignore=shutil.ignore_patterns(".fleetshift", "__pycache__"))
    return root


@pytest.fixture
def collector() -> Iterator[None]:
    was = gc.isenabled()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


def _scan(root: Path) -> tuple[str, int]:
    _ast.forget()
    found = json.dumps(to_jsonable(survey(root, use_cache=False, jobs=1).inventory))
    return found, _ast._parse.cache_info().currsize


def test_trees_are_dropped_service_by_service_while_the_collector_runs(fleet: Path, collector: None) -> None:
    gc.disable()
    kept, left = _scan(fleet)
    assert left > 0  # the trees of the last services parsed
    gc.enable()
    dropped, none = _scan(fleet)
    assert none == 0
    assert dropped == kept
