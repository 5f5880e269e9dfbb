"""Helpers for recipes whose new releases drop old Pythons: the Python floor a service declares, where it
is written, and the oldest release a campaign's target admits."""

from __future__ import annotations

import configparser
import tomllib

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from fleetshift.recipes.base import ConfigFile, Recipe, RewriteContext


def requires_python(cfg: ConfigFile) -> SpecifierSet | None:
    """`requires-python` of a pyproject.toml or `python_requires` of a setup.cfg; None when absent or unreadable."""
    raw: str | None = None
    try:
        if cfg.kind == "pyproject.toml":
            raw = tomllib.loads(cfg.text).get("project", {}).get("requires-python")
        elif cfg.kind == "setup.cfg":
            parser = configparser.ConfigParser(interpolation=None)
            parser.read_string(cfg.text)
            raw = parser.get("options", "python_requires", fallback=None)
        return SpecifierSet(raw) if raw else None
    except (tomllib.TOMLDecodeError, configparser.Error, InvalidSpecifier):
        return None


def requires_python_line(text: str) -> int:
    """Line of the first `requires-python` / `python_requires` in a config file, or 0."""
    return next(
        (
            i
            for i, ln in enumerate(text.splitlines(), 1)
            if "python_requires" in ln or "requires-python" in ln
        ),
        0,
    )


def oldest_target(recipe: Recipe, ctx: RewriteContext, default: str) -> Version:
    """The oldest of the recipe's known releases that the campaign's target admits (`default` when none is)."""
    try:
        spec = SpecifierSet(ctx.targets.get(recipe.package, recipe.migrates_to))
    except InvalidSpecifier:
        return Version(default)
    admitted = [Version(v) for v in recipe.known_versions if spec.contains(v)]
    return min(admitted) if admitted else Version(default)
