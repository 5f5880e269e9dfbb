"""Golden outputs of the demo: `recipes guide` for every recipe, `check` and `run --dry-run` on the demo fleet.

A refactoring of the recipes must leave these byte for byte as they are. When a change of output is
intended, regenerate them and review the diff: `FLEETSHIFT_UPDATE_GOLDEN=1 python3 -m pytest -q
tests/recipes/test_golden.py -m "slow or not slow"`.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fleetshift.cli import app
from fleetshift.recipes import all_recipes

GOLDEN = Path(__file__).parent / "golden"
DEMO = Path(__file__).resolve().parents[2] / "examples" / "homeiq"
UPDATE = os.environ.get("FLEETSHIFT_UPDATE_GOLDEN") == "1"
runner = CliRunner()


def compare(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"{name} differs from the golden file (see its module docstring to regenerate)"


def invoke(*args: str | Path) -> str:
    result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    return result.stdout


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dst = tmp_path_factory.mktemp("golden") / "homeiq"
    shutil.copytree(DEMO, dst, ignore=shutil.ignore_patterns(".fleetshift", "__pycache__", ".pytest_cache"))
    return dst


def test_every_recipe_has_a_golden_guide() -> None:
    assert {p.name for p in GOLDEN.glob("guide-*.md")} == {f"guide-{r.id}.md" for r in all_recipes()}


@pytest.mark.parametrize("rid", sorted(r.id for r in all_recipes()))
def test_recipe_guide_is_unchanged(rid: str) -> None:
    compare(f"guide-{rid}.md", invoke("recipes", "guide", rid))


def test_check_on_the_demo_is_unchanged(demo: Path) -> None:
    compare("check-homeiq.txt", invoke("check", demo))


def code_only(dry_run: str) -> str:
    """The dry run without the diffs of non-Python files and the pins' own findings: new pins come from the
    resolver and the live index (tested with the pins); the recipes' rewrites of code and what they report stay."""
    out: list[str] = []
    keep = True
    for line in dry_run.splitlines(keepends=True):
        if line.startswith("--- "):
            keep = line.rstrip().endswith(".py")
        elif not line.startswith(("+++ ", "@@", " ", "+", "-", "\\")):
            keep = not any(f": {engine}/" in line for engine in ("manifest", "pins"))
        if keep:
            out.append(line)
    return "".join(out)


@pytest.mark.slow
def test_dry_run_of_the_demo_is_unchanged(demo: Path) -> None:
    compare("dry-run-homeiq.txt", code_only(invoke("run", demo, "--dry-run", "--yes")))
