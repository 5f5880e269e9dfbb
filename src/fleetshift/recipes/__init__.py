"""The recipe registry: built-in recipe modules in this package plus the `fleetshift.recipes` entry points.

A recipe module exposes `RECIPE`, an instance of a `fleetshift.recipes.base.Recipe` subclass. An
entry point may name such an instance, a subclass, or a module that has `RECIPE`.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
from collections.abc import Iterable
from functools import cache
from types import ModuleType

from fleetshift.recipes.base import Recipe

ENTRY_POINT_GROUP = "fleetshift.recipes"


class RecipeError(Exception):
    """A recipe could not be loaded or was asked for by a name that does not exist."""


def _from_object(obj: object, origin: str) -> Recipe:
    if isinstance(obj, ModuleType):
        obj = getattr(obj, "RECIPE", None)
    if isinstance(obj, type) and issubclass(obj, Recipe):
        obj = obj()
    if not isinstance(obj, Recipe):
        raise RecipeError(f"{origin} does not provide a fleetshift Recipe (expected RECIPE = <Recipe subclass>())")
    return obj


def _builtin() -> Iterable[Recipe]:
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_") or info.name in ("base", "rule", "fixes"):  # not recipes (fixes loads LibCST)
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "RECIPE"):
            yield _from_object(module, f"module {module.__name__}")


def _may_declare_plugins() -> bool:
    """Whether importlib.metadata could find an entry point of the group: an `entry_points.txt` naming it in a
    `*.dist-info` or `*.egg-info` folder of a folder on `sys.path` (where its path finder looks), or anything on
    the path or among the finders this look does not read (a zip, an egg, another finder of distributions).
    Asking importlib.metadata itself costs its import and a parse of every distribution's entry points (~15 ms
    of every command's start; this look ~1 ms) for the usual answer: none."""
    from importlib.machinery import PathFinder

    if any(f is not PathFinder and hasattr(f, "find_distributions") for f in sys.meta_path):
        return True
    needle = ENTRY_POINT_GROUP.encode()
    for entry in sys.path:
        if not isinstance(entry, str) or entry.lower().endswith(".egg"):
            return True
        try:
            names = os.listdir(entry or ".")
        except NotADirectoryError:  # a zip on the path
            return True
        except OSError:
            continue
        for name in names:
            if name.lower().endswith((".dist-info", ".egg-info")):
                try:
                    with open(os.path.join(entry or ".", name, "entry_points.txt"), "rb") as fh:
                        if needle in fh.read():
                            return True
                except OSError:
                    continue
    return False


def _plugins() -> Iterable[Recipe]:
    if not _may_declare_plugins():
        return
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
        except Exception as exc:  # a broken plugin must not hide the built-ins
            raise RecipeError(f"entry point {ep.name!r} ({ep.value}) failed to load: {exc}") from exc
        yield _from_object(obj, f"entry point {ep.name!r} ({ep.value})")


@cache
def all_recipes() -> tuple[Recipe, ...]:
    """Every registered recipe, in chain order."""
    found: dict[str, Recipe] = {}
    for recipe in [*_builtin(), *_plugins()]:
        if recipe.id in found:
            raise RecipeError(f"two recipes share the id {recipe.id!r}")
        found[recipe.id] = recipe
    return tuple(sorted(found.values(), key=lambda r: (r.order, r.id)))


def get(recipe_id: str) -> Recipe:
    """The recipe with this id (or the one migrating this package)."""
    for recipe in all_recipes():
        if recipe_id in (recipe.id, recipe.package, recipe.replaces):
            return recipe
    names = ", ".join(r.id for r in all_recipes())
    raise RecipeError(f"no recipe named {recipe_id!r}; known recipes: {names}")


def for_package(package: str) -> Recipe | None:
    """The recipe that migrates or replaces this canonical package name, if any."""
    for recipe in all_recipes():
        if recipe.handles(package):
            return recipe
    return None


_KEEPING_TREES = ("fleetshift.recipes.fixes", "fleetshift.recipes.tenacity.resolve", "fleetshift.recipes.sparse")


def forget_trees() -> None:
    """Drop the `ast` trees, LibCST modules, walks and records the recipes keep of the texts read so far: called
    when a service's scan or rewrite is done (services share no files, and a fleet's services seldom hold the
    same text). Kept, they are young objects the cyclic collector walks at every collection until later parses
    push them out; dropped, reference counting frees them at once. A module not loaded keeps nothing and is not
    imported for this (the scan never loads LibCST)."""
    from fleetshift.recipes import _ast

    _ast.forget()
    for name in _KEEPING_TREES:
        module = sys.modules.get(name)
        if module is not None:
            module.forget()
