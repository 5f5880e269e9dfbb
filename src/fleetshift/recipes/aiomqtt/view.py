"""The fixes of a module applied to a sparse view of it: LibCST parses, positions, walks and prints the statements
the sites are in, not the whole module.

The view (see `recipes.sparse`) keeps every top-level statement that is not a def or class, every def or class
holding a site or a planned edit, those naming the entry coroutine a module-level client moves into, and what
they name or are named by. It is used only when it says exactly what the whole module says: its facts (with the
whole module's call statistics, client fixtures and cross-file names) must give the same sites, messages and
edits at the same places once its lines are mapped back, in the same order; LibCST must read the same default
indent and line break from it; and the rewritten view must splice back. Anything else rewrites the whole module.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence
from dataclasses import replace

from fleetshift.recipes.aiomqtt.entry import moves
from fleetshift.recipes.aiomqtt.facts import Facts, Key, Site, facts_of


def fixed_view(
    facts: Facts,
    sites: Sequence[Site],
    sites_of: Callable[[Facts], list[Site]],
    fixes_of: Callable[[Facts], list[object]],
) -> str | None:
    """The module's text with the fixes `fixes_of(facts)` makes applied through a sparse view of it, or None when
    no view can stand for the whole module (the caller then rewrites the whole module)."""
    from fleetshift.recipes import fixes, sparse
    from fleetshift.recipes._ast import parse_tree

    text = facts.text
    lines: set[int] = set()
    for site in sites:
        lines.add(site.line)
        for key, _ in site.edits:
            lines.update((key[0], key[2]))
    lines.update(_multi_imports(facts))
    needs = {move.entry.name for move in moves(facts)}
    try:
        v = sparse.view(text, facts.tree, lines, needs)
    except (SyntaxError, ValueError):
        return None
    if v is None or sparse.first_newline(v.text) != sparse.first_newline(text):
        return None
    try:
        tree = parse_tree(v.text)
    except (SyntaxError, ValueError):
        return None
    part = facts_of(v.text, tree, facts.stats, facts.fixtures, facts.service_uses_mqtt, facts.imported_elsewhere)
    if part.mqtt_file != facts.mqtt_file:  # a Client fixture taken only by a left-out def: the module's is meant
        part = replace(part, mqtt_file=facts.mqtt_file)
    if not _same(v, sites, sites_of(part)):
        return None
    module = fixes.parse(v.text)
    if module.default_indent != sparse.first_indent(text):
        return None
    spliced = sparse.splice(v, fixes.code(module, fixes.apply(module, fixes_of(part))))
    return spliced[0] if spliced is not None else None


def _multi_imports(facts: Facts) -> list[int]:
    """The lines of `import a, b` statements: the imports fix drops a repeated name from any of them."""
    return [n.lineno for n in facts.of(ast.Import) if len(n.names) > 1]  # type: ignore[attr-defined]


def _same(v: object, whole: Sequence[Site], part: Sequence[Site]) -> bool:
    """Whether the view's sites are the module's: the same rules, messages and edits, in the same order, at the
    same places once the view's lines are mapped back."""
    from fleetshift.recipes import sparse

    assert isinstance(v, sparse.View)

    def line(n: int) -> int | None:
        return sparse.map_line(v, n, None)

    def key(k: Key) -> tuple[int | None, int, int | None, int]:
        return (line(k[0]), k[1], line(k[2]), k[3])

    if len(whole) != len(part):
        return False
    for w, p in zip(whole, part, strict=True):
        if (w.rule, w.col, w.message, w.finding, w.severity, w.shown) != (
            p.rule, p.col, p.message, p.finding, p.severity, p.shown
        ) or line(p.line) != w.line or len(w.edits) != len(p.edits):
            return False
        for (wk, wop), (pk, pop) in zip(w.edits, p.edits, strict=True):
            if wop != pop or key(pk) != wk:
                return False
    return True
