"""Human-readable descriptions of a recipe, generated from its declared data (rules, advisories, links)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from fleetshift.model import Action
from fleetshift.recipes.base import Recipe, Rule

_HEAD = {Action.AUTO: "Changed automatically", Action.HUMAN: "Flagged for a human", Action.INFO: "Worth knowing"}


def _grouped(recipe: Recipe) -> Iterator[tuple[Action, list[Rule]]]:
    """The recipe's rules by what happens to them: rewritten, flagged, informational (empty groups left out)."""
    for action in Action:
        rules = [r for r in recipe.rules if r.action is action]
        if rules:
            yield action, rules


def _listing(recipe: Recipe, head: Callable[[Action], str], entry: Callable[[Action, Rule], str]) -> list[str]:
    """Each group's heading followed by its rules' entries, in the recipe's order."""
    out: list[str] = []
    for action, rules in _grouped(recipe):
        out += [head(action), *(entry(action, r) for r in rules)]
    return out


def _text_entry(action: Action, r: Rule) -> str:
    since = f" (since {r.since})" if r.since else ""
    lines = [f"  {r.id}{since}: {r.summary}", *([f"      -> {r.fix}"] if r.fix else []), *([f"      {r.link}"] if r.link else [])]
    return "\n".join(lines)


def _markdown_entry(action: Action, r: Rule) -> str:
    since = f" *(since {r.since})*" if r.since else ""
    fix = f"{'What fleetshift does' if action is Action.AUTO else 'What to do'}: {r.fix}\n\n" if r.fix else ""
    return f"### `{r.id}`{since}\n\n{r.summary}\n\n{fix}" + (f"Read more: <{r.link}>\n\n" if r.link else "")


def _source(recipe: Recipe) -> str:
    return f"{recipe.replaces} (any release)" if recipe.replaces else f"{recipe.package} {recipe.migrates_from}"


def recipe_summary(recipe: Recipe) -> str:
    """Plain text for `fleetshift recipes show`."""
    lines = [f"{recipe.id}: {recipe.title}", f"  from {_source(recipe)}  ->  {recipe.package} {recipe.migrates_to}"]
    if recipe.drops:
        lines.append(f"  removes companion pins: {', '.join(recipe.drops)}")
    if recipe.requires:
        lines.append("  moves along: " + ", ".join(f"{k}{v}" for k, v in recipe.requires.items()))
    lines += _listing(recipe, lambda action: f"\n{_HEAD[action]}:", _text_entry)
    if recipe.advisories:
        lines.append("\nAdvisories:")
        lines += [f"  avoid {recipe.package}{a.versions}: {a.message}" for a in recipe.advisories]
    if recipe.docs:
        lines.append(f"\nLibrary notes: {recipe.docs}")
    return "\n".join(lines) + "\n"


def recipe_guide(recipe: Recipe) -> str:
    """A Markdown migration guide for `fleetshift recipes guide`."""
    out = [
        f"# Migrating {_source(recipe)} to {recipe.package} {recipe.migrates_to}\n",
        f"\n{recipe.title}.\n",
        "\nRun `fleetshift run FLEET --dry-run --recipe " + recipe.id + "` to see every change as a diff before anything is written,"
        " and `fleetshift check FLEET` afterwards to list what is left.\n",
    ]
    if recipe.drops or recipe.requires:
        out.append("\n## Requirements\n\n")
        out.append(f"- `{recipe.replaces or recipe.package}` becomes `{recipe.package}{recipe.migrates_to}` (or your campaign target).\n")
        out += [f"- `{d}` is removed: the new release brings what it needs.\n" for d in recipe.drops]
        out += [f"- `{k}` moves to `{v}` in the same change.\n" for k, v in recipe.requires.items()]
    out += _listing(recipe, lambda action: f"\n## {_HEAD[action]}\n\n", _markdown_entry)
    if recipe.advisories:
        out.append("## Releases to avoid\n\n")
        out += [f"- `{recipe.package}{a.versions}`: {a.message}" + (f" (<{a.link}>)" if a.link else "") + "\n" for a in recipe.advisories]
    return "".join(out)
