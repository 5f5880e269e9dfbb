"""The needs of the pytest-asyncio rules (see `recipes.needs`): what a module's text must hold for a rule's `check`
to find a site in it, told before the module is parsed.

Most rules need a word their sites spell (`event_loop`, `get_event_loop`, `pytest_asyncio`, ...). The rules that
read a function's decorators (an async test without the asyncio marker, an async fixture under `@pytest.fixture`,
a wider-scoped async fixture, a mark on a fixture) are told from the module's logical lines (`Module`): its text
split the way Python's tokenizer splits it (strings, comments, brackets and backslash-continued lines read as
Python reads them), each `def` with the decorators written right above it. Any text that cannot be split so
(a string not closed, a bracket closed that was not opened, a bracket left open, a line break "\\r" alone) may
hold every site. Python 3.12's f-strings may nest their own quotes; a text whose nested quotes the split would
read otherwise cannot hold a site: a site is a `def`, and such an f-string stands in one logical line either way.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Callable
from functools import cached_property

# strings and comments: each becomes STRING, so the brackets, quotes and line breaks in them do not count (a string's
# prefix, `rb` or `f`, is left before it); a string's body is matched as runs of plain characters between its escapes
# and lone quotes (the same strings as a character at a time, found faster)
_STRINGS = re.compile(
    r"""'''[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*'''|\"\"\"[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*\"\"\""""
    r"""|'[^'\\\n]*(?:\\.[^'\\\n]*)*'|"[^"\\\n]*(?:\\.[^"\\\n]*)*"|#[^\n]*""",
    re.S,
)
STRING = "\x03"
_MARKS = str.maketrans("", "", "".join(chr(i) for i in range(128) if chr(i) not in "()[]{}\n"))
_SPANNING = re.compile(r"\([\nj]*\)|\[[\nj]*\]|\{[\nj]*\}")  # a pair of brackets holding line breaks (j: joined)
_BRACKETS = re.compile(r"[()\[\]{}]")
_HEAD = re.compile(r"[ \t\f]*(async[ \t\f]+)?")  # what stands before a def on its line
_DEF_NAME = re.compile(r"def[ \t\f]+(\w+)")  # a def and its name, where `_HEAD` stands before it on its line
_BLANK_LINES = re.compile(f"(?:[ \\t\\f]*{STRING}?[ \\t\\f]*\\n)*+")  # lines holding nothing but a string or a comment
_DEF_LINE = re.compile(r"[ \t\f]*(?:async[ \t\f]+)?def[ \t\f]+(\w+)")  # a def's line, and its name
_WORD_CHAR = re.compile(r"\w")
# the word `yield` (no word character before it, as `_yield` checks: a pattern starting with its letters is searched
# for them at memchr speed, one starting with a look-behind is tried at every position, thirty times slower)
_YIELD = re.compile(r"yield(?!\w)")
_ODD_INDENT = re.compile(r"^ *[\t\f]", re.M)  # (searched for only in a code holding a tab or a form feed)


def _joined(m: re.Match[str]) -> str:
    return "j" * (m.end() - m.start() - 2)


class Def:
    """A `def` (at any depth) and the decorators written right above it (see `Module`): their text, blank lines and
    comments between them included, and each decorator's line."""

    __slots__ = ("decorated", "is_async", "name")

    def __init__(self, is_async: bool, name: str, decorated: str) -> None:
        self.is_async = is_async
        self.name = name
        self.decorated = decorated

    @property
    def decorators(self) -> list[str]:
        return [line.lstrip(" \t\f") for line in self.decorated.split("\n") if "@" in line]


class Module:
    """A module's code, each logical line on one line (the line breaks in brackets and after a backslash gone),
    every string and comment written STRING, and its defs."""

    def __init__(self, text: str, code: str) -> None:
        self.text = text
        self.code = code

    @cached_property
    def defs(self) -> list[Def]:
        code = self.code
        # the decorator lines (a line whose first character past spaces, tabs and form feeds is `@`): where each
        # starts, and where each ends (its line break, or the code's end)
        starts: list[int] = []
        ends: list[int] = []
        at = code.find("@")
        while at != -1:
            start = code.rfind("\n", 0, at) + 1
            end = code.find("\n", at)
            end = len(code) if end == -1 else end
            if not code[start:at].strip(" \t\f"):
                starts.append(start)
                ends.append(end)
            at = code.find("@", end)
        found = []
        for named in _DEF_NAME.finditer(code):  # (a def stands at its line's start: a match inside a line is none)
            at = named.start()
            start = code.rfind("\n", 0, at) + 1
            head = _HEAD.fullmatch(code, start, at)
            if head is not None:
                # the lines above: decorators, blank lines and comments, up to any other line (between this line and
                # the nearest decorator line above it, only blank lines and comments)
                decorators: list[str] = []
                i = bisect.bisect_left(ends, start) - 1
                below = start
                while i >= 0 and _BLANK_LINES.fullmatch(code, ends[i] + 1, below) is not None:
                    decorators.append(code[starts[i]:ends[i]])
                    below = starts[i]
                    i -= 1
                found.append(Def(head.group(1) is not None, named.group(1), "\n".join(reversed(decorators))))
        return found

    @cached_property
    def aliases(self) -> frozenset[str]:
        """Which of the fixture decorator ("fixture"), pytest_asyncio's names ("pytest_asyncio") and the asyncio mark
        ("asyncio") an import may bind to a name of its own (a decorator need not spell the word then)."""
        text = self.text
        return frozenset(
            word for word, alias in (("fixture", FIXTURE_ALIAS), ("pytest_asyncio", PA_ALIAS), ("asyncio", ASYNCIO_ALIAS))
            if word in text and alias.search(text)
        )

    def yields_in(self, prefix: str) -> bool:
        """Whether a `yield` may stand in a def whose name starts with `prefix`: the def on the yield's own line,
        else the innermost def holding it, told by the indentation of the logical lines (each line above with less
        indentation than those below it opens a block holding them; a tab or form feed in an indentation may make
        any def hold it)."""
        code = self.code
        found = _yield(code, 0)
        if found is None:
            return False
        if ("\t" in code or "\f" in code) and _ODD_INDENT.search(code):
            return True
        while found is not None:
            start = code.rfind("\n", 0, found.start()) + 1
            end = code.find("\n", start)
            line = code[start:end if end != -1 else len(code)]
            below = len(line) - len(line.lstrip(" "))
            while True:
                m = _DEF_LINE.match(line)
                if m is not None:  # the innermost def holding the yield (on its own line, or the line of the yield)
                    if m.group(1).startswith(prefix):
                        return True
                    break
                while below and start:  # up to the line opening the block the lines below stand in
                    end = start - 1
                    start = code.rfind("\n", 0, end) + 1
                    line = code[start:end]
                    body = line.lstrip(" ")
                    if body and body != STRING and len(line) - len(body) < below:
                        below = len(line) - len(body)
                        break
                else:
                    break  # at the module's level: no def holds it
            found = _yield(code, found.end())
        return False

    @cached_property
    def imports(self) -> list[str]:
        """The logical lines holding the word `import` (each from its first token)."""
        code = self.code
        found: list[str] = []
        at = code.find("import")
        while at != -1:
            end = code.find("\n", at)
            end = len(code) if end == -1 else end
            if not (at and (code[at - 1].isalnum() or code[at - 1] == "_")) and not _WORD_CHAR.match(code, at + 6):
                found.append(code[code.rfind("\n", 0, at) + 1:end].lstrip(" \t\f"))
                at = end
            at = code.find("import", at + 1)
        return found

    def binds_itself(self, name: str) -> bool:
        """Whether the import statements bind `name` to the module of that name and nothing else (as
        `recipes._ast.Imports` reads them): a plain `import <name>` stands, and every import statement spelling the
        name either imports from it, names a submodule of it, or is that plain import."""
        key = f"binds:{name}"
        known = self.__dict__.get(key)
        if known is None:
            plain = re.compile(rf"import[ \t\f]+{name}[ \t\f]*{STRING}?[ \t\f]*")
            word = re.compile(rf"(?<![\w.]){name}(?!\w)")
            known = False
            for line in self.imports:
                if name not in line:
                    continue
                if plain.fullmatch(line):
                    known = True
                    continue
                for m in word.finditer(line):
                    if line[m.end():].lstrip(" \t\f").startswith("."):
                        continue  # a submodule or an attribute: binds no name `name` to another
                    if re.search(r"from[ \t\f]+\Z", line[:m.start()]):
                        continue  # imports from it: binds other names
                    self.__dict__[key] = False
                    return False
            self.__dict__[key] = known
        return known


def _yield(code: str, at: int) -> re.Match[str] | None:
    """The next whole word `yield` in an ASCII code from `at` (`(?<!\\w)yield(?!\\w)`)."""
    found = _YIELD.search(code, at)
    while found is not None and found.start() and (code[found.start() - 1].isalnum() or code[found.start() - 1] == "_"):
        found = _YIELD.search(code, found.end())
    return found


_last: list[object] = [None, None]  # the last text read, and its Module (None: it cannot be split)


def module(text: str) -> Module | None:
    """The text's logical lines and defs (see `Module`), or None when it cannot be split so."""
    if _last[0] is text:
        return _last[1]  # type: ignore[return-value]
    _last[:] = [text, _split(text)]
    return _last[1]  # type: ignore[return-value]


def _split(text: str) -> Module | None:
    source = text
    if not text.isascii():
        return None
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if "\r" in text:
            return None
    if "\x03" in text:
        return None
    code = _STRINGS.sub(STRING, text)
    if "'" in code or '"' in code:
        return None  # a quote opening no string
    code = code.replace("\\\n", " ")  # backslash-continued lines (in strings and comments they are gone)
    marks = code.translate(_MARKS)  # the brackets and line breaks, in order
    # the innermost pairs of brackets, one depth at a time: the line breaks in them are joined (the empty pairs go by
    # `str.replace`, at memchr speed: in whichever order innermost pairs go, the same marks are left in the end)
    while True:
        inner = marks.replace("()", "").replace("[]", "").replace("{}", "")
        inner = _SPANNING.sub(_joined, inner)
        if inner == marks:
            break
        marks = inner
    if _BRACKETS.search(marks):
        return None  # a bracket closed that was not opened, or left open
    if "j" in marks:  # each line break, in order: a logical line's end, or joined
        code = _joined_lines(code, marks)
    return Module(source, code)


_JOINED = re.compile(r"j+")


def _joined_lines(code: str, marks: str) -> str:
    """`code` with each line break that `marks` (its line breaks in order, "\n" or "j") says is joined written as a
    space: the lines between the breaks of each run of joined ones put together, the others left as they are."""
    parts = code.split("\n")
    lines: list[str] = []
    done = 0
    for run in _JOINED.finditer(marks):
        first, last = run.span()
        lines.extend(parts[done:first])
        lines.append(" ".join(parts[first:last + 1]))
        done = last + 1
    lines.extend(parts[done:])
    return "\n".join(lines)


@functools.lru_cache(maxsize=8)
def _decorator(dotted: str) -> re.Pattern[str]:
    return re.compile(
        rf"@[ \t\f]*{re.escape(dotted)}(?!\w)[ \t\f]*(?:\([^()\[\]{{}}]*\))?[ \t\f]*{STRING}?[ \t\f]*"
    )


def is_decorator(line: str, dotted: str) -> bool:
    """Whether the decorator line (as `Module` writes it) is `@<dotted>` itself, bare or called once
    (`@pytest.mark.asyncio(loop_scope=...)`, no bracket inside the call), the dotted name written without spaces."""
    return _decorator(dotted).fullmatch(line) is not None


class DefsNeed:
    """A need (`recipes.needs`): the module's defs (see `Module`) may make a site, as `may_site` says of them, or
    the text cannot be split into logical lines."""

    COST = 5  # see `recipes.needs`

    def __init__(self, may_site: Callable[[Module], bool]) -> None:
        self.may_site = may_site

    def search(self, text: str) -> bool:
        found = module(text)
        return found is None or self.may_site(found)


MARK = "pytest.mark.asyncio"
PA_FIXTURE = "pytest_asyncio.fixture"
# an import binding a fixture decorator, pytest_asyncio's names or the asyncio mark to a name of its own: a
# decorator need not spell the word then
FIXTURE_ALIAS = re.compile(r"fixture[\s\\]+as(?!\w)")
PA_ALIAS = re.compile(r"pytest_asyncio[\w.]*[\s\\]+(?:as|import)(?!\w)")
ASYNCIO_ALIAS = re.compile(r"asyncio[\s\\]+as(?!\w)")
_ASYNCIO = re.compile(r"(?<!\w)asyncio(?!\w)")  # the mark's name (`pytest_asyncio` is another name)


def may_fixture(m: Module, d: Def) -> bool:
    """Whether the def may be a fixture: a decorator spells `fixture`, or an import binds it to another name."""
    return "fixture" in d.decorated or "fixture" in m.aliases


def unmarked_async_test(m: Module) -> bool:
    """An async def named test... without `@pytest.mark.asyncio` right above it (`pytest` imported as itself)."""
    tests = [d for d in m.defs if d.is_async and d.name.startswith("test")]
    if not tests:
        return False
    if not m.binds_itself("pytest"):
        return True
    return any(not any(is_decorator(line, MARK) for line in d.decorators) for d in tests)


def strict_async_fixture(m: Module) -> bool:
    """An async def that may be a fixture, not decorated with `@pytest_asyncio.fixture` (imported as itself)."""
    for d in m.defs:
        if d.is_async and may_fixture(m, d):
            pa = any(is_decorator(line, PA_FIXTURE) for line in d.decorators) and m.binds_itself("pytest_asyncio")
            if not pa:
                return True
    return False


def scoped_async_fixture(m: Module) -> bool:
    """A def that may be a fixture with a scope=, async or perhaps decorated with pytest_asyncio's fixture."""
    for d in m.defs:
        if "scope" in d.decorated and may_fixture(m, d):
            if d.is_async or "pytest_asyncio" in d.decorated or "pytest_asyncio" in m.aliases:
                return True
    return False


def mark_on_fixture(m: Module) -> bool:
    """A def that may be a fixture whose decorators may spell the asyncio mark."""
    return any(
        may_fixture(m, d) and ("asyncio" in m.aliases or _ASYNCIO.search(d.decorated) is not None)
        for d in m.defs
    )


UNMARKED_ASYNC_TEST = DefsNeed(unmarked_async_test)
STRICT_ASYNC_FIXTURE = DefsNeed(strict_async_fixture)
SCOPED_ASYNC_FIXTURE = DefsNeed(scoped_async_fixture)
MARK_ON_FIXTURE = DefsNeed(mark_on_fixture)

# a call of the asyncio mark (brackets may stand apart from the name: spaces, line breaks, comments), or an import
# binding it to another name
ASYNCIO_CALL = re.compile(r"asyncio(?:\s|\\|#[^\n]*)*\(")


def spelled(word: str) -> re.Pattern[str]:
    """Where a string constant may equal `word`: its text spells it out, or an escape or the end of a string
    literal (one of several written side by side, which Python joins) comes before the whole word is spelled out:
    after a part of it (`"event_" "loop"`, `"event\\x5floop"`, a backslash-newline), or as its first letter
    (`"\\x65vent_loop"`, `\\145`, `\\u0065`, `\\U00000065`, `\\N{...}`)."""

    def prefixes(w: str) -> str:
        return re.escape(w[0]) + (f"(?:{prefixes(w[1:])})?" if len(w) > 1 else "")

    code = ord(word[0])
    first = "|".join(
        sorted({f"x{code:02x}", f"x{code:02X}", f"{code:03o}", f"u{code:04x}", f"u{code:04X}", f"U{code:08x}", f"U{code:08X}"})
    )
    head = re.escape(word[0])
    return re.compile(
        head + "(?:" + re.escape(word[1:]) + "|" + (f"(?:{prefixes(word[1:-1])})?" if len(word) > 2 else "")
        + r"""(?:\\|["'](?:\s|#[^\n]*|\\\r?\n)*[rRuUfFbB]{0,2}["']))"""
        + rf"|\\(?:{first}|N\{{)"
    )


EVENT_LOOP = spelled("event_loop")
EVENT_LOOP_POLICY = spelled("event_loop_policy")


class RemovedImportNeed:
    """A need (`recipes.needs`) of removed-import: the text spells `pytest_asyncio` somewhere but as a plain
    `import pytest_asyncio` or an attribute pytest-asyncio 1.x keeps (`pytest_asyncio.fixture`,
    `.is_async_test`, `.__version__`, written without spaces): an import from it, of a submodule, an alias, an
    attribute it lacks or any other writing may make a site."""

    COST = 1  # see `recipes.needs`
    _WORD = re.compile(r"(?<![\w.])pytest_asyncio(?!\w)")
    _KEPT = re.compile(r"\.(?:fixture|is_async_test|__version__)(?!\w)")
    _PLAIN = re.compile(r"[ \t\f]*(?:#[^\n]*)?(?:\r?\n|\r|\Z)")
    _BEFORE = re.compile(r"(?:^|[\n\r])[ \t\f]*import[ \t\f]+\Z")

    def search(self, text: str) -> bool:
        if "pytest_asyncio" not in text:
            return False
        for m in self._WORD.finditer(text):
            if self._KEPT.match(text, m.end()):
                continue
            if self._PLAIN.match(text, m.end()) and self._BEFORE.search(text, max(0, m.start() - 80), m.start()):
                continue
            return True
        return False


REMOVED_IMPORT = RemovedImportNeed()
