"""Imports a rewrite adds follow the project's own import order, when it keeps one.

A project keeps an import order when its configuration says so: isort's settings (`[tool.isort]`,
`.isort.cfg`, `[isort]` in setup.cfg or tox.ini, an isort pre-commit hook) or ruff's `I` rules selected
(pyproject.toml, ruff.toml, .ruff.toml), in the service's folder or any folder above it up to the fleet's root.
Then each rewritten module whose original imports were sorted (ruff's isort check, run with the project's own
ruff settings, finds nothing) gets its imports sorted again after the rewrite; a module that was not sorted
to begin with is left as the recipes wrote it, so nothing the project did not ask for changes.
"""

from __future__ import annotations

import configparser
import os
import tomllib
from functools import cache
from pathlib import Path

from fleetshift.proc import run_captured

_RUFF_FILES = ("pyproject.toml", "ruff.toml", ".ruff.toml")
_INI_FILES = ("setup.cfg", "tox.ini", ".isort.cfg")


@cache
def ruff_bin() -> str | None:
    """The ruff executable of the `ruff` package fleetshift depends on (None when it is missing)."""
    try:
        from ruff.__main__ import find_ruff_bin

        return str(find_ruff_bin())
    except (ImportError, FileNotFoundError):
        return None


def keeps_order(root: Path, folder: str) -> bool:
    """Whether the project at `root / folder` (or a folder above it inside `root`) declares an import order.
    (Plain string paths: this runs for every service a run rewrites, and most folders hold none of the files.)"""
    here = os.path.realpath(os.path.join(root, folder))
    top = os.path.realpath(root)
    inside = top if top.endswith(os.sep) else top + os.sep
    while True:
        if _declares(here):
            return True
        if here == top or not here.startswith(inside):
            return False
        here = os.path.dirname(here)


def _declares(folder: str) -> bool:
    for name in _RUFF_FILES:
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            try:
                data = tomllib.loads(Path(path).read_text(encoding="utf-8-sig"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                continue
            if name == "pyproject.toml":
                if "isort" in data.get("tool", {}):
                    return True
                data = data.get("tool", {}).get("ruff", {})
            if _selects_isort(data) or _selects_isort(data.get("lint", {})):
                return True
    for name in _INI_FILES:
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            parser = configparser.ConfigParser(interpolation=None, strict=False)
            try:
                parser.read_string(Path(path).read_text(encoding="utf-8-sig"))
            except (OSError, UnicodeDecodeError, configparser.Error):
                continue
            if name == ".isort.cfg" or parser.has_section("isort") or parser.has_section("tool:isort"):
                return True
    hooks = os.path.join(folder, ".pre-commit-config.yaml")
    try:
        return os.path.isfile(hooks) and "isort" in Path(hooks).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


def _selects_isort(table: object) -> bool:
    if not isinstance(table, dict):
        return False
    chosen = [*table.get("select", ()), *table.get("extend-select", ())]
    return any(isinstance(c, str) and (c == "ALL" or c == "I" or c.startswith("I0")) for c in chosen)


def _ruff(args: list[str], text: str, cwd: Path) -> tuple[int | None, str]:
    ruff = ruff_bin()
    if ruff is None:
        return None, ""
    done = run_captured([ruff, *args], 60, cwd=cwd, input=text)
    return done.code, done.stdout


def resort(old: str, new: str, rel: str, root: Path) -> str:
    """`new` with its imports sorted the project's way, when `old` had them sorted; else `new` as it is."""
    if old == new:
        return new
    cwd = root
    args = ["check", "--select", "I", "--quiet", "--no-cache", "--stdin-filename", rel, "-"]
    code, _ = _ruff(args, old, cwd)
    if code != 0:  # not sorted before (or ruff cannot run): keep what the recipes wrote
        return new
    code, _ = _ruff(args, new, cwd)
    if code == 0:
        return new
    code, fixed = _ruff(["check", "--select", "I", "--fix", "--exit-zero", "--quiet", "--no-cache",
                         "--stdin-filename", rel, "-"], new, cwd)
    return fixed if code == 0 and fixed.strip() else new

