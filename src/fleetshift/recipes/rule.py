"""What a rule is and where it lives: one module per rule, found by discovery, gated by declared data.

A recipe package keeps its rules in a `rules` subpackage, one module each, like django-upgrade's fixers:

    # fleetshift/recipes/aiomqtt/rules/force_disconnect.py
    '''Client.force_disconnect() was removed

    Leave the `async with` block, which forces the disconnection if needed.
    '''
    from fleetshift.recipes.rule import HUMAN, rule

    RULE = rule(__name__, __doc__, HUMAN, since="1.0.0")

    def check(facts): ...           # optional: its sites, on the standard `ast` only

    class Fix:                      # optional: its rewrite on LibCST (see fleetshift.recipes.fixes)
        def __init__(self, facts): ...
        def leave_Call(self, original, updated):
            import libcst as cst    # imported here, so scanning never imports LibCST
            ...

The docstring's first paragraph is the rule's summary and the rest its fix; the module name is its slug; the
rules package's `RECIPE_ID` and `LINK` give the id prefix and the default link. `min_target`,
`fixed_in`, `python` and `condition` say where the rule applies and `applies` is the one place that decides it.

A file goes through LibCST only when some active rule's `check` reported a site in it, or an active rule with a
`Fix` declares `every_file=True` (its fix acts where no check reports: an import cleanup, say).

`facts` is the recipe's own frozen record of one module (its imports resolved, the service index it needs), built
once per file and shared by every rule's `check` and `Fix`. A recipe walks a file once for detection (each
node offered to each rule's `check`, or each `check` given the whole facts) and once for rewriting: the
`Fix` of every rule whose gates let it act is applied in one LibCST walk by `fixes.apply`.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from types import ModuleType

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from fleetshift.model import Action

AUTO, HUMAN, INFO = Action.AUTO, Action.HUMAN, Action.INFO


@dataclass(frozen=True)
class Scope:
    """What a rule's gates are judged on for one service: the releases the campaign may install and its Pythons."""

    target: str = ""  # the campaign's target specifier for the recipe's package
    known_versions: tuple[str, ...] = ()  # the package's real releases, oldest first
    python: str = ""  # the service's declared Python specifier ("" when it declares none)
    files: Mapping[str, str] = field(default_factory=dict)

    @property
    def oldest_target(self) -> Version | None:
        """The oldest known release the target admits (None when it admits none or cannot be read)."""
        return _oldest(self.target, self.known_versions)


@dataclass(frozen=True)
class Rule:
    """One breaking change a recipe knows: its id, what it is, whether it is rewritten, the fix, and its gates.

    `min_target`: the fix applies only when every release the campaign's target admits is at least this.
    `fixed_in`: it applies only while the target still admits a release older than this (a bug fixed there).
    `python`: it applies only to services that may run on a Python inside this specifier (e.g. "<3.9").
    `condition`: any other test on the service's `Scope`.
    """

    id: str  # "<recipe>/<slug>", e.g. "tenacity/asyncio-module"
    summary: str
    action: Action
    fix: str = ""  # what the rewrite does, or what a human must do
    link: str = ""
    since: str = ""  # library version that introduced the change
    min_target: str = ""
    fixed_in: str = ""
    python: str = ""
    condition: Callable[[Scope], bool] | None = field(default=None, compare=False)
    order: int = 100  # place in the recipe's listings (`recipes show`, `guide`); ties by id
    every_file: bool = False  # its fix acts without a `check` site (import cleanups): LibCST sees every file

    @property
    def slug(self) -> str:
        return self.id.split("/", 1)[-1]

    def applies(self, scope: Scope) -> bool:
        """Whether the rule's gates let it act on a service with this scope."""
        oldest = scope.oldest_target
        if self.min_target and (oldest is None or oldest < Version(self.min_target)):
            return False
        if self.fixed_in and oldest is not None and oldest >= Version(self.fixed_in):
            return False
        if self.python and scope.python and not _overlaps(scope.python, self.python):
            return False
        return self.condition is None or self.condition(scope)


def rule(
    module: str,
    doc: str | None,
    action: Action,
    *,
    since: str = "",
    link: str | None = None,
    min_target: str = "",
    fixed_in: str = "",
    python: str = "",
    condition: Callable[[Scope], bool] | None = None,
    order: int = 100,
    every_file: bool = False,
) -> Rule:
    """The Rule a rule module declares: `rule(__name__, __doc__, AUTO, since="2.0.0")`.

    The summary is the docstring's first paragraph and the fix the rest, each joined into one line; the slug
    is the module's name with `-` for `_`; the id prefix and the default link come from the rules package.
    """
    package_name, _, name = module.rpartition(".")
    package = sys.modules[package_name]
    summary, _, fix = (doc or "").strip().partition("\n\n")
    summary, fix = " ".join(summary.split()), " ".join(fix.split())
    link = getattr(package, "LINK", "") if link is None else link
    rule_id = f"{package.RECIPE_ID}/{name.replace('_', '-')}"
    return Rule(rule_id, summary, action, fix, link, since, min_target, fixed_in, python, condition, order, every_file)


def target_admits(first: str) -> Callable[[Scope], bool]:
    """A rule `condition`: the campaign's target admits a known release at or after `first` (a change that
    only shows from that release on). An unreadable target does not hide the rule."""

    def admits(scope: Scope) -> bool:
        return _admits_from(first, scope.target, tuple(scope.known_versions))

    return admits


@lru_cache(maxsize=256)
def _admits_from(first: str, target: str, known: tuple[str, ...]) -> bool:
    """`target_admits(first)` on a scope with this target and these known releases (judged once per rule module and
    service, for every file a recipe rewrites or detects: the same few targets each time)."""
    try:
        spec = SpecifierSet(target)
    except InvalidSpecifier:
        return True
    return any(Version(v) >= Version(first) and spec.contains(v, prereleases=True) for v in known)


def python_admits(wanted: str) -> Callable[[Scope], bool]:
    """A rule `condition`: the service may run on a Python inside `wanted` (an undeclared Python may)."""
    return lambda scope: not scope.python or _overlaps(scope.python, wanted)


def any_of(*conditions: Callable[[Scope], bool]) -> Callable[[Scope], bool]:
    """A rule `condition` that holds when any of `conditions` does."""
    return lambda scope: any(c(scope) for c in conditions)


@dataclass(frozen=True)
class RuleModule:
    """A discovered rule: its data and the module holding its detection and fix."""

    rule: Rule
    module: ModuleType

    def hook(self, name: str) -> Callable[..., object] | None:
        """The module's function `name` (e.g. `detect`), or None when the rule has none."""
        return getattr(self.module, name, None)


def by_slug(package: str) -> dict[str, Rule]:
    """The rules of a rules package by slug (`"client-identifier"` -> its Rule)."""
    return {m.rule.slug: m.rule for m in discover(package)}


@cache
def discover(package: str) -> tuple[RuleModule, ...]:
    """Every rule module of a rules package (`RULE` in each), in listing order."""
    pkg = importlib.import_module(package)
    found = []
    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package}.{info.name}")
        found.append(RuleModule(module.RULE, module))
    return tuple(sorted(found, key=lambda m: (m.rule.order, m.rule.id)))


@lru_cache(maxsize=256)
def _oldest(target: str, known: tuple[str, ...]) -> Version | None:
    try:
        spec = SpecifierSet(target)
    except InvalidSpecifier:
        return None
    admitted = [Version(v) for v in known if spec.contains(v, prereleases=True)]
    return min(admitted, default=None)


@lru_cache(maxsize=256)
def _overlaps(declared: str, wanted: str) -> bool:
    """Whether a service's Python specifier admits any CPython 3 minor release inside `wanted`."""
    try:
        have, want = SpecifierSet(declared), SpecifierSet(wanted)
    except (InvalidSpecifier, InvalidVersion):
        return True  # unreadable: do not hide the rule
    return any(
        have.contains(v, prereleases=True) and want.contains(v, prereleases=True)
        for minor in range(0, 20)
        for v in (f"3.{minor}.0", f"3.{minor}.99")
    )
