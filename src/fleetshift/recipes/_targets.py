"""The oldest release a campaign's target admits, for recipes whose rewrites depend on the target's API."""

from __future__ import annotations

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from fleetshift.recipes.base import Recipe, RewriteContext


def oldest_target(recipe: Recipe, ctx: RewriteContext, default: str) -> Version:
    """The oldest of the recipe's known releases that the campaign's target admits (`default` when none is)."""
    try:
        spec = SpecifierSet(ctx.targets.get(recipe.package, recipe.migrates_to))
    except InvalidSpecifier:
        return Version(default)
    admitted = [Version(v) for v in recipe.known_versions if spec.contains(v)]
    return min(admitted) if admitted else Version(default)
