"""The needs of the `parametrize` rules (see `recipes.needs`): whether a module's text may hold a `parametrize` call
whose arguments make a site, told from the calls' own text before the module is parsed.

Every `parametrize` call either spells the name before its arguments (`pytest.mark.parametrize(`, `m.parametrize(`,
`parametrize(` after a star import or `from pytest.mark import parametrize`) or calls a name an import binds to it
(`... import parametrize as p`). So a text may hold a site unless every whole word `parametrize` in it stands right
before `(` (spaces and tabs between) and the arguments there, read on their own with `ast` (from the `(` to its
matching `)`, past strings and comments), cannot make one. Anything else answers "maybe": the word elsewhere (an
import binding it to another name, a comment, a string), a call that cannot be read on its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_WORD = re.compile(r"parametrize(?!\w)")  # a whole word when no word character stands before it
_OPEN = re.compile(r"[ \t]*\(")
# what can stand between a call's brackets: strings (their brackets do not count), comments, brackets
# (a string's body is matched as runs of plain characters between its escapes and lone quotes: the same strings as
# a character at a time, found faster)
_TOKEN = re.compile(
    r"""[rRbBuUfF]{0,2}(?:'''[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*'''|\"\"\"[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*\"\"\""""
    r"""|'[^'\\\n]*(?:\\.[^'\\\n]*)*'|"[^"\\\n]*(?:\\.[^"\\\n]*)*")"""
    r"|#[^\n]*|[()\[\]{}]",
    re.S,
)
_ARG_TOKEN = re.compile(_TOKEN.pattern + r"|,", re.S)
# the same tokens read by the regex engine, in one match: a string, a comment or a run of anything but a quote, `#`
# or a bracket (an atomic group: each token is read as `_TOKEN` reads it, by the first alternative that matches, and
# never read otherwise), and brackets nested up to `_DEPTH` deep, each pair counted as the loops below count them
# (any closing bracket closes the last one opened). What a match cannot read (a quote opening no string, deeper
# brackets, a bracket left open) is left to those loops.
_STRING = (
    r"""'''[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*'''|\"\"\"[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*\"\"\""""
    r"""|'[^'\\\n]*(?:\\.[^'\\\n]*)*'|"[^"\\\n]*(?:\\.[^"\\\n]*)*"|#[^\n]*"""
)
_DEPTH = 8


def _nested(depth: int) -> str:
    """A pair of brackets and what stands between them, pairs nested `depth` deep at most."""
    inner = f"|{_nested(depth - 1)}" if depth > 1 else ""
    return rf"""[(\[{{](?>[^'"#()\[\]{{}}]++|{_STRING}{inner})*+[)\]}}]"""


_GROUP = re.compile(_nested(_DEPTH), re.S)
_KEYWORD = re.compile(r"[A-Za-z_]\w*[ \t]*=(?!=)")
_last: list[object] = [None, None]  # the last text read, and its calls (None: one could not be read)


@dataclass(frozen=True)
class Arguments:
    """What a `parametrize(...)` call's text tells of its arguments: the positional ones (their text, comments
    and the spaces around dropped), whether one is `*args` or `**kwargs`, the keywords given, and which of those
    arguments are a list, dict or set display (or comprehension) with nothing after it."""

    positional: tuple[str, ...]
    starred: bool
    keywords: dict[str, str]
    displays: frozenset[str] = frozenset()  # "0", "1", ... for positional arguments, else the keyword

    def values(self) -> str | None:
        """The text of the argvalues argument (None when there is none)."""
        return self.positional[1] if len(self.positional) > 1 else self.keywords.get("argvalues")

    def values_display(self) -> bool:
        """Whether the argvalues argument is a display: never a generator expression, a call or a name."""
        return ("1" if len(self.positional) > 1 else "argvalues") in self.displays


def calls(text: str) -> list[Arguments] | None:
    """The arguments of every `parametrize(...)` call in the text; None when a whole word `parametrize` stands
    anywhere but before `(`, or a call's arguments cannot be told apart."""
    if _last[0] is text:
        return _last[1]  # type: ignore[return-value]
    found: list[Arguments] | None = []
    for m in _WORD.finditer(text):
        if m.start() and (text[m.start() - 1].isalnum() or text[m.start() - 1] == "_"):
            continue  # another name ending in parametrize
        opened = _OPEN.match(text, m.end())
        args = _arguments(text, opened.end() - 1) if opened else None
        if args is None:
            found = None
            break
        found.append(args)
    _last[:] = [text, found]
    return found


# the commonest calls read in one match: two arguments, each a string without escapes or a bracketed expression
# (`_GROUP`), then perhaps a keyword argument whose value is one as well or a dotted name (`ids=[...]`, `ids=str`),
# its name and `=` on one line (as `_KEYWORD` reads them); spaces, tabs and line breaks around them, and perhaps a
# comma after the last
_PLAIN = "|".join((r'"[^"\\\n]*"', r"'[^'\\\n]*'", _nested(_DEPTH)))
_PLAIN_ARG = rf"({_PLAIN})"
_TWO = re.compile(rf"\([ \t\n]*{_PLAIN_ARG}[ \t\n]*,[ \t\n]*{_PLAIN_ARG}[ \t\n]*"
                  rf"(?:,[ \t\n]*([A-Za-z_]\w*)[ \t]*=[ \t\n]*({_PLAIN}|[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)[ \t\n]*)?"
                  rf"(?:,[ \t\n]*)?\)", re.S)


def _two_arguments(text: str, start: int) -> Arguments | None:
    """What `_arguments` reads of a call of the commonest shapes (`_TWO`), else None (a call of any other shape, or
    an argument in brackets of two kinds, `(...]`, which `_arguments` refuses): the two arguments as written (and
    the keyword's value), a list, dict or set display among them (one starting with `[` or `{`: the bracket closes
    the whole argument)."""
    m = _TWO.match(text, start)
    if m is None:
        return None
    args = m.group(1, 2)
    name, value = m.group(3, 4)
    keywords = {} if name is None else {name: value}
    for arg in (*args, *keywords.values()):
        if arg[0] in "([{" and "([{".index(arg[0]) != ")]}".index(arg[-1]):
            return None
    displays = [str(i) for i, arg in enumerate(args) if arg[0] in "[{"]
    displays.extend(name for name, value in keywords.items() if value[0] in "[{")
    return Arguments(args, False, keywords, frozenset(displays))


def _arguments(text: str, start: int) -> Arguments | None:
    """The arguments of the call whose `(` stands at `start`, split at its own commas (what is nested in another
    bracket is skipped whole); None when its `)` is not found."""
    two = _two_arguments(text, start)  # (what `_arguments_by_tokens` reads of that shape)
    return two if two is not None else _arguments_by_tokens(text, start)


def _arguments_by_tokens(text: str, start: int) -> Arguments | None:
    """`_arguments` read token by token (what the one match of `_two_arguments` stands for, and any other call)."""
    parts: list[tuple[str, bool]] = []  # each argument's text, and whether it is one bracketed display
    begin, pos = start + 1, start + 1
    cut: list[tuple[int, int]] = []  # comments inside the current argument
    group = -1  # where the current argument's first bracket closes, when the argument starts with it
    while True:
        m = _ARG_TOKEN.search(text, pos)
        if m is None:
            return None
        tok, pos = m.group(), m.end()
        if tok[0] == "#":
            cut.append(m.span())
        elif tok in "([{":
            close = _close(text, m.start())
            if close < 0:
                return None
            before = _strip(text, begin, m.start(), cut)
            if tok != "(" and (not before or _KEYWORD.fullmatch(before)):
                group = close  # the argument (or the keyword's value) starts with this bracket
            pos = close + 1
        elif tok == "," or tok in ")]}":
            if tok in "]}":
                return None
            arg = _strip(text, begin, m.start(), cut)
            single = group >= 0 and not _strip(text, group + 1, m.start(), [c for c in cut if c[0] > group])
            if arg:
                parts.append((arg, single))
            if tok == ")":
                break
            begin, cut, group = pos, [], -1
    positional: list[str] = []
    keywords: dict[str, str] = {}
    displays: set[str] = set()
    for arg, single in parts:
        k = _KEYWORD.match(arg)
        if arg.startswith("*"):
            continue
        if k:
            name = arg[:k.end() - 1].strip()
            keywords[name] = arg[k.end():].strip()
            if single:
                displays.add(name)
        else:
            if single:
                displays.add(str(len(positional)))
            positional.append(arg)
    return Arguments(tuple(positional), any(a.startswith("*") for a, _ in parts), keywords, frozenset(displays))


def _strip(text: str, begin: int, end: int, cut: list[tuple[int, int]]) -> str:
    """An argument's text without its comments, and without the spaces, tabs and line breaks around it."""
    pieces, at = [], begin
    for a, b in cut:
        if a >= begin and b <= end:
            pieces.append(text[at:a])
            at = b
    pieces.append(text[at:end])
    return "".join(pieces).strip()


def _close(text: str, start: int) -> int:
    """The index of the bracket closing the one at `start`, or -1."""
    m = _GROUP.match(text, start)
    if m is not None:  # (what `_close_by_tokens` finds, token by token)
        end = m.end() - 1
        return end if "([{".index(text[start]) == ")]}".index(text[end]) else -1
    return _close_by_tokens(text, start)


def _close_by_tokens(text: str, start: int) -> int:
    """`_close` read token by token (what the one match stands for, and where it cannot read a text)."""
    depth = 0
    for m in _TOKEN.finditer(text, start):
        tok = m.group()
        if tok in "([{":
            depth += 1
        elif tok in ")]}":
            depth -= 1
            if depth == 0:
                return m.start() if "([{".index(text[start]) == ")]}".index(tok) else -1
    return -1


class ArgumentsNeed:
    """A need (`recipes.needs`): the text may hold a `parametrize` call whose arguments `may_site` says may make a
    site (`search` is true), or one it cannot read."""

    COST = 4  # see `recipes.needs`

    def __init__(self, may_site: Callable[[Arguments], bool]) -> None:
        self.may_site = may_site

    def search(self, text: str) -> bool:
        found = calls(text)
        return found is None or any(self.may_site(call) for call in found)


# a decorator's start (a line's first character); inside one: strings, comments, brackets, escaped and plain line ends
_LONE_CR = re.compile(r"\r(?!\n)")  # a line break `^` does not see
_LINE_TOKEN = re.compile(_TOKEN.pattern + r"|\\\r?\n|\n", re.S)
# a line holding no string, comment, bracket nor backslash, up to its break (or the text's end)
_PLAIN_LINE = re.compile(r"[^'\"#()\[\]{}\\\n]*(?=\n|\Z)")
_BETWEEN = re.compile(r"(?:\s|#[^\n]*)*\Z")  # what may stand between two decorators of one definition
# a logical line's tokens up to its break (see `_GROUP`): a backslash ending a line continues the line
_LINE = re.compile(rf"""(?>[^'"#()\[\]{{}}\\\n]++|{_STRING}|\\\r?\n|\\|{_nested(_DEPTH)})*+""", re.S)


def decorator_lists(text: str) -> list[str] | None:
    """The text of every run of decorators written one after the other (blank and comment lines between), as
    each definition's decorators stand; a line starting with `@` inside a string makes a run too (a run more, never
    one less). None when a decorator's end cannot be found."""
    if _LONE_CR.search(text):
        return None
    runs: list[str] = []
    last_end = -1
    at = text.find("@")
    while at != -1:
        line = text.rfind("\n", 0, at) + 1
        if at >= last_end and not text[line:at].strip(" \t\f"):  # a line's first character, past the decorator before
            end = _line_end(text, at)
            if end < 0:
                return None
            if runs and _BETWEEN.match(text, last_end, line):
                runs[-1] += text[last_end:end]
            else:
                runs.append(text[at:end])
            last_end = end
        at = text.find("@", at + 1)
    return runs


def _line_end(text: str, start: int) -> int:
    """The end of the logical line starting at `start` (its line break, or the text's end), or -1."""
    plain = _PLAIN_LINE.match(text, start)
    if plain is not None:  # no token before the line's break (or the text's end) but that break
        return plain.end()
    end = _LINE.match(text, start).end()  # type: ignore[union-attr]  (what `_line_end_by_tokens` finds)
    if end == len(text) or text[end] == "\n":
        return end
    if text[end] in ")]}":  # a bracket closing none
        return -1
    return _line_end_by_tokens(text, start)


def _line_end_by_tokens(text: str, start: int) -> int:
    """`_line_end` read token by token (what the one match stands for, and where it cannot read a text)."""
    depth = 0
    for m in _LINE_TOKEN.finditer(text, start):
        tok = m.group()
        if tok == "\n":
            if depth == 0:
                return m.start()
        elif tok in "([{":
            depth += 1
        elif tok in ")]}":
            depth -= 1
            if depth < 0:
                return -1
    return len(text) if depth == 0 else -1


# an import binding a fixture decorator or a mark to a name of its own (`fixture as fx`, `mark as m`, `from
# pytest.mark import skip`): its decorators need not spell the words
_ALIASED = (re.compile(r"fixture[\s\\]+as(?!\w)"), re.compile(r"mark[\s\\]+(?:as|import)(?!\w)"))


class DecoratorsNeed:
    """A need (`recipes.needs`): one definition's decorators may spell each of `words` (a fixture decorator and a
    mark on it), or an import may bind them to other names, or the decorators cannot be told apart."""

    COST = 3  # see `recipes.needs`

    def __init__(self, *words: str) -> None:
        self.words = words

    # two rules needing the same words share the answer (`recipes.needs.holds` looks each need up once per text)
    def __eq__(self, other: object) -> bool:
        return isinstance(other, DecoratorsNeed) and other.words == self.words

    def __hash__(self) -> int:
        return hash(self.words)

    def search(self, text: str) -> bool:
        if any(p.search(text) for p in _ALIASED):
            return True
        runs = _runs(text)
        return runs is None or any(all(w in run for w in self.words) for run in runs)


_last_runs: list[object] = [None, None]


def _runs(text: str) -> list[str] | None:
    if _last_runs[0] is not text:
        _last_runs[:] = [text, decorator_lists(text)]
    return _last_runs[1]  # type: ignore[return-value]


class YieldingTest:
    """A need (`recipes.needs`): `yield` written after the first `def test...` (a test function yields after its
    `def`; spaces, tabs, line breaks and backslashes may stand between `def` and its name), in a def whose name
    starts with `test` as the module's logical lines tell it (`pytest_asyncio.needs.Module.yields_in`: the yield of
    a fixture is not a test's)."""

    COST = 2  # see `recipes.needs`
    _DEF_TEST = re.compile(r"def[\s\\]+test")

    def search(self, text: str) -> bool:
        from fleetshift.recipes.pytest_asyncio.needs import module

        m = self._DEF_TEST.search(text)
        if m is None or text.find("yield", m.end()) == -1:
            return False
        found = module(text)
        return found is None or found.yields_in("test")
