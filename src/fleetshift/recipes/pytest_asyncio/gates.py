"""What a module's text tells the pytest recipes' checks before they walk its tree (standard `ast` only).

A check looks for the words its sites must hold before it walks: `may_name` says whether a text may hold an
identifier (a text with non-ASCII characters always may: Python normalizes identifiers, NFKC), `may_hold`
whether it may hold a keyword or other text, `word_lines` on which lines a word may stand, and `near` finds the
nodes of some kinds that may hold one of those lines without visiting the rest of the tree. Each answers "maybe"
whenever the text cannot tell (unknown, or line breaks other than "\\n"), so a gated check finds what the
ungated one finds, in the same order (tests/recipes/test_pytest_gates.py compares both with `GATES` off).
"""

from __future__ import annotations

import ast
import re
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence

GATES = True  # off: every check walks what it did before it looked in the text (what the tests compare with)

_DECORATED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def may_name(text: str | None, *words: str) -> bool:
    """Whether `text` may hold one of the identifiers `words` (always, when the text is unknown or holds a
    non-ASCII character: `ｆixture` is the identifier `fixture`)."""
    return not GATES or text is None or any(w in text for w in words) or not text.isascii()


def may_hold(text: str | None, *words: str) -> bool:
    """Whether `text` may hold one of `words` as written: keywords (`class`, `yield`), never spelled otherwise."""
    return not GATES or text is None or any(w in text for w in words)


def may_match(text: str | None, pattern: re.Pattern[str]) -> bool:
    """Whether `text` may hold what `pattern` finds (a pattern finding wherever a site may be)."""
    return not GATES or text is None or pattern.search(text) is not None


def word_lines(text: str | None, words: Iterable[str], identifiers: bool = True) -> list[int] | None:
    """The sorted lines (numbered as the parser numbers them) on which one of `words` stands in `text`, or None
    when the text cannot tell: unknown, a "\\r" line break, or (for identifiers) a non-ASCII character."""
    if not GATES or text is None or "\r" in text or (identifiers and not text.isascii()):
        return None
    at: set[int] = set()
    for w in words:
        if not w:
            return None
        i = text.find(w)
        while i != -1:
            at.add(i)
            i = text.find(w, i + 1)
    lines: list[int] = []
    line, pos = 1, 0
    for i in sorted(at):
        line += text.count("\n", pos, i)
        pos = i
        if not lines or lines[-1] != line:
            lines.append(line)
    return lines


def _holds(node: ast.AST, lines: Sequence[int]) -> bool:
    """Whether the node's lines (its decorators' included) may hold one of `lines`: a node without a position
    (arguments, comprehension, withitem, match_case, ...) always may."""
    start = getattr(node, "lineno", None)
    end = getattr(node, "end_lineno", None)
    if start is None or end is None:
        return True
    if isinstance(node, _DECORATED) and node.decorator_list:  # a def's position is its `def` line
        start = min(start, *(d.lineno for d in node.decorator_list))
    i = bisect_left(lines, start)
    return i < len(lines) and lines[i] <= end


def _children(node: ast.AST) -> Iterator[ast.AST]:
    """`ast.iter_child_nodes`, in the same (field) order."""
    for name in node._fields:
        value = getattr(node, name, None)
        if isinstance(value, ast.AST):
            yield value
        elif value.__class__ is list:
            for v in value:
                if isinstance(v, ast.AST):
                    yield v


def near(
    tree: ast.AST, lines: Sequence[int], kinds: tuple[type, ...], depth_first: bool = False
) -> list[ast.AST]:
    """The nodes of `kinds` in `tree` that may hold one of `lines` (sorted), in `ast.walk`'s (breadth-first)
    order, or with `depth_first` in pre-order (children in field order): every node whose source holds a word
    standing on one of the lines is among them, as each of its ancestors holds that line too. A node's subtree is
    walked only when the node's lines hold one of `lines`; an f-string's whole (its inner nodes' positions are
    not to be trusted before Python 3.12)."""
    out: list[ast.AST] = []
    todo: list[tuple[ast.AST, bool]] = [(tree, False)]  # (node, inside an f-string: walked whole)
    i = 0
    while todo if depth_first else i < len(todo):
        if depth_first:
            node, whole = todo.pop()
        else:
            node, whole = todo[i]
            i += 1
        if isinstance(node, kinds):
            out.append(node)
        whole = whole or isinstance(node, ast.JoinedStr)
        children = [(child, whole) for child in _children(node) if whole or _holds(child, lines)]
        todo.extend(reversed(children) if depth_first else children)
    return out
