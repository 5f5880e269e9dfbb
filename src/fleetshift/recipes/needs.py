"""What a module's text must hold for a recipe to find a site in it: judged before the module is parsed.

A rule module whose `check` finds sites in Python files may declare `NEEDS`, the words every one of its sites
needs in its module's text: groups, each holding words (or a compiled pattern) of which the text must hold one,
all groups at once (`(("yield",), ("test",))`: a yielding test needs both words). A recipe may find a site in a
module whose text satisfies the `NEEDS` of one of its rules, unless the recipe declines the module outright
(`declines(path, text)`, a method a recipe may define: pytest-asyncio reads test code only). A recipe with a
rule that has a `check` and no `NEEDS` may find a site in any module holding one of its tokens: the tokens choose
the modules worth a look, the needs those worth parsing.

A text holding a non-ASCII character may hold every identifier (Python normalizes them, NFKC: `ｆixture` is
`fixture`), so it satisfies every need. The scan parses a module for a recipe only when the recipe may find a
site in it (fleetshift.scan); `CONDITIONS` off, it parses every module holding a token, as it did before the
needs were declared (tests/recipes/test_needs.py compares both over every case, tests/projects, the demo and a
generated fleet, and checks every site found against its rule's needs).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fleetshift.recipes.base import Recipe

CONDITIONS = True  # off: every module holding one of a recipe's tokens may hold a site (what the tests compare with)

Need = Sequence[str | re.Pattern[str]]  # one group: the text holds one of these
Needs = Sequence[Need]  # every group at once

_BY_RECIPE: dict[str, tuple[Needs, ...] | None] = {}


def holds(text: str, needs: Needs, seen: dict[str | re.Pattern[str], bool] | None = None) -> bool:
    """Whether `text` satisfies `needs`: one word (or a match of the pattern) of every group; every text with a
    non-ASCII character does. `seen`: what is known of the words in this text (each looked for once)."""
    return not text.isascii() or _any_held(text, (needs,), {} if seen is None else seen)


class _Guarded(tuple):  # type: ignore[type-arg]
    """A group of words (a need's) with a `guard`: a text holds one of the words only if it holds the guard, the
    start all of them share (`pytest_` of pytest's hook names): a text without it is read once, not once per word."""

    guard: str


def _guarded(group: Need) -> Need:
    """The group with its guard (see `_Guarded`) when it has three words or more that start alike (four characters
    or more), else the group as it is."""
    if len(group) < 3 or not all(isinstance(w, str) for w in group):
        return group
    first, last = min(group), max(group)  # (the start they share is that of the first and the last in order)
    n = 0
    while n < min(len(first), len(last)) and first[n] == last[n]:  # type: ignore[index]
        n += 1
    guard = first[:n]  # type: ignore[index]
    if len(guard) < 4:
        return group
    out = _Guarded(group)
    out.guard = guard
    return out


def _any_held(text: str, every: Iterable[Needs], seen: dict[str | re.Pattern[str], bool]) -> bool:
    """Whether the ASCII `text` satisfies one of `every` needs (`holds`), in one loop: a text no rule may find a site
    in (most of those `may_hold` is asked) goes through every rule's needs, and a call per rule cost as much as
    looking up its words."""
    known = seen.get
    for needs in every:
        for group in needs:
            if group.__class__ is _Guarded:
                guard = group.guard  # type: ignore[attr-defined]
                found = known(guard)
                if found is None:
                    found = seen[guard] = guard in text
                if not found:
                    break  # none of the group's words: not these needs
            for w in group:
                found = known(w)
                if found is None:
                    found = seen[w] = (w in text) if w.__class__ is str else bool(w.search(text))  # type: ignore[union-attr]
                if found:
                    break
            else:
                break  # a group none of whose words the text holds: not these needs
        else:
            return True
    return False


class Starting:
    """A need: a match of `pattern` (`pattern.search(text)`), where each match starts with one of the characters
    `firsts`: the pattern is tried only where one of them stands (`str.find` passes over the rest at memchr speed;
    a pattern starting with an alternation is tried at every position of the text). For a pattern that reads
    nothing before the position it is tried at (no look-behind, no anchor)."""

    COST = 1

    def __init__(self, pattern: re.Pattern[str], firsts: str) -> None:
        self.pattern, self.firsts = pattern, firsts

    def search(self, text: str) -> bool:
        match = self.pattern.match
        for first in self.firsts:
            at = text.find(first)
            while at != -1:
                if match(text, at) is not None:
                    return True
                at = text.find(first, at + 1)
        return False


def _cost(need: str | re.Pattern[str]) -> int:
    """How costly a word, a pattern or a need of its own (its `COST`) is to look for, in order."""
    return 0 if isinstance(need, str) else 1 if isinstance(need, re.Pattern) else getattr(need, "COST", 9)


def rule_needs(recipe: Recipe) -> tuple[Needs, ...] | None:
    """The `NEEDS` of each of a recipe's rules that has a `check`; None when one of them declares none (or the
    recipe has no such rule: its own code finds its sites, and any module holding a token may hold one)."""
    if recipe.id not in _BY_RECIPE:
        found: list[Needs] = []
        for m, _ in recipe.hooks("check"):
            needs = getattr(m.module, "NEEDS", None)
            if needs is None:
                found = []
                break
            found.append(needs)
        # the cheapest needs first: a text satisfying one is not read by the costlier ones
        found.sort(key=lambda needs: max(_cost(w) for group in needs for w in group))
        _BY_RECIPE[recipe.id] = tuple(tuple(_guarded(group) for group in needs) for needs in found) if found else None
    return _BY_RECIPE[recipe.id]


def may_hold(recipe: Recipe, path: str, text: str) -> bool:
    """Whether the recipe may find a site in the module at `path` whose text is `text` (see the module's doc)."""
    if not CONDITIONS:
        return True
    declines = getattr(recipe, "declines", None)
    if declines is not None and declines(path, text):
        return False
    every = rule_needs(recipe)
    if every is None or not text.isascii():
        return True
    return _any_held(text, every, {})
