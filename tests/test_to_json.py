"""model.to_json writes the text json.dumps(to_jsonable(...)) writes, by the json encoder meeting the records."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pytest

from fleetshift.model import Action, Finding, Severity, UsageSite, to_json, to_jsonable
from fleetshift.pipeline import survey

ROOT = Path(__file__).parents[1]


@pytest.mark.parametrize("fleet", [ROOT / "examples" / "homeiq", ROOT / "tests" / "projects"], ids=lambda p: p.name)
def test_an_inventory_is_written_as_to_jsonable_writes_it(fleet: Path, tmp_path: Path) -> None:
    root = tmp_path / fleet.name
    shutil.copytree(fleet, root, ignore=shutil.ignore_patterns(".fleetshift", "__pycache__"))
    inventory = survey(root, use_cache=False).inventory
    assert inventory.services and any(s.sites for s in inventory.services)
    assert to_json(inventory) == json.dumps(to_jsonable(inventory))


def test_every_kind_of_value() -> None:
    site = UsageSite("tenacity", "tenacity/retry", "a.py", 3, 4, "m", Action.AUTO)
    values = [
        site, [site, (site,)], {"k": site, Severity.ERROR: Finding("x", 0, "r", "m", Severity.ADVICE)},
        {1: "one", 2.5: b"\xffbytes"}, {("a", 1): site},  # a key the encoder refuses: by way of to_jsonable
        None, True, 1.5, "\u00e9", Action.INFO,
    ]
    for value in values:
        assert to_json(value) == json.dumps(to_jsonable(value)), value
    with pytest.raises(TypeError):
        to_json({"path": Path("x")})


@dataclass(frozen=True)
class _Cached:
    name: str
    size: int = 0

    @cached_property
    def label(self) -> str:  # kept in the instance's __dict__ once asked: not a field, never written
        return f"{self.name}:{self.size}"


@dataclass
class _Open:
    name: str


def test_a_record_holding_more_than_its_fields_writes_its_fields() -> None:
    asked, fresh, opened = _Cached("a", 1), _Cached("b"), _Open("c")
    assert asked.label == "a:1" and "label" in asked.__dict__
    opened.extra = 1  # type: ignore[attr-defined]
    for value in ([asked, fresh], {"o": opened}):
        assert to_json(value) == json.dumps(to_jsonable(value)) and "label" not in to_json(value)
    assert "extra" not in to_json(opened)
