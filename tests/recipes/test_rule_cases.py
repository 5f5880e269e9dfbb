"""Every recipe's cases keyed by rule: each runs through the harness, and every rule has a positive and a no-op case.

A recipe's test module (`tests/recipes/test_<module>.py`) holds its `CASES` list and names its recipe in `R`.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from recipe_harness import Case, check_case

from fleetshift.recipes import all_recipes

HERE = Path(__file__).parent


ELSEWHERE: dict[str, set[str]] = {}  # recipe -> rules a module says are judged outside a file rewrite


def _case_lists() -> dict[str, list[Case]]:
    found: dict[str, list[Case]] = {}
    for path in sorted(HERE.glob("test_*.py")):
        if path.stem == Path(__file__).stem:
            continue
        module = importlib.import_module(path.stem)
        cases = getattr(module, "CASES", None)
        if hasattr(module, "R") and cases and all(isinstance(c, Case) for c in cases):
            found.setdefault(module.R, []).extend(module.CASES)
            ELSEWHERE.setdefault(module.R, set()).update(getattr(module, "JUDGED_ELSEWHERE", ()))
    return found


CASES = _case_lists()
ALL = [(rid, case) for rid, cases in CASES.items() for case in cases]


@pytest.mark.parametrize(("rid", "case"), ALL, ids=[f"{rid}:{c.id()}" for rid, c in ALL])
def test_case(rid: str, case: Case) -> None:
    check_case(rid, case)


@pytest.mark.parametrize("recipe", [r for r in all_recipes() if r.rules_package or r.id in CASES], ids=lambda r: r.id)
def test_every_rule_has_a_positive_and_a_noop_case(recipe) -> None:
    cases = CASES.get(recipe.id, [])
    unknown = {c.rule for c in cases} - {r.slug for r in recipe.rules}
    assert not unknown, f"cases for rules {recipe.id} does not have: {sorted(unknown)}"
    for rule in recipe.rules:
        if rule.slug in ELSEWHERE.get(recipe.id, ()):
            continue
        kinds = {c.positive for c in cases if c.rule == rule.slug}
        assert kinds == {True, False}, f"{rule.id} needs a positive and a no-op case (has {kinds or 'none'})"
