"""Flux tokens, and the sentinels that stand for f-string placeholders inside Flux text."""

from __future__ import annotations

import re
from dataclasses import dataclass

HOLE_OPEN = "\x00"

HOLE_CLOSE = "\x01"

HOLE_RE = re.compile(f"{HOLE_OPEN}(\\d+){HOLE_CLOSE}")


def hole(index: int) -> str:
    """The sentinel standing for the f-string placeholder number `index`."""
    return f"{HOLE_OPEN}{index}{HOLE_CLOSE}"


class FluxError(Exception):
    """The Flux text cannot be parsed or is outside the translatable subset."""


UNITS = {
    "y": "years",
    "mo": "months",
    "w": "weeks",
    "d": "days",
    "h": "hours",
    "m": "minutes",
    "s": "seconds",
    "ms": "milliseconds",
    "us": "microseconds",
    "µs": "microseconds",
    "ns": "nanoseconds",
}

_DUR_PART = r"(?:\d+|\x00\d+\x01)(?:mo|ms|us|µs|ns|y|w|d|h|m|s)"

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+|//[^\n]*)
  | (?P<time>\d{4}-\d\d-\d\d(?:T\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d))?)
  | (?P<dur>(?:"""
    + _DUR_PART
    + r""")+)(?![A-Za-z_0-9])
  | (?P<num>\d+\.\d+|\d+)
  | (?P<hole>\x00\d+\x01)
  | (?P<str>"(?:[^"\\]|\\.)*")
  | (?P<ident>[A-Za-z_][A-Za-z_0-9]*)
  | (?P<op>\|>|=>|==|!=|<=|>=|=~|!~|[-+*/<>=(){}\[\],:.])
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class Tok:
    kind: str
    text: str
    pos: int
    end: int = -1  # one past the token's last character in the source text


def _regex_at(text: str, pos: int) -> tuple[str, int] | None:
    """A `/.../` regex literal starting at `pos`, with its end."""
    i = pos + 1
    out = []
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            if text[i + 1] == "/":
                out.append("/")
            else:
                out.append(text[i : i + 2])
            i += 2
            continue
        if c == "/":
            return "".join(out), i + 1
        if c == "\n":
            return None
        out.append(c)
        i += 1
    return None


def tokenize(text: str) -> list[Tok]:
    toks: list[Tok] = []
    pos = 0
    while pos < len(text):
        if text[pos] == "/" and toks and toks[-1].text in ("=~", "!~", "(", ",", ":", "["):
            found = _regex_at(text, pos)
            if found is None:
                raise FluxError(f"unterminated regex at {pos}")
            toks.append(Tok("regex", found[0], pos, found[1]))
            pos = found[1]
            continue
        m = _TOKEN_RE.match(text, pos)
        if not m:
            raise FluxError(f"unexpected character {text[pos]!r} at {pos}")
        kind = m.lastgroup or ""
        if kind != "ws":
            toks.append(Tok(kind, m.group(), pos, m.end()))
        pos = m.end()
    toks.append(Tok("eof", "", pos, pos))
    return toks


def unquote(text: str) -> str:
    body = text[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t", "r": "\r"}.get(m.group(1), m.group(1)), body)


def split_duration(text: str) -> list[tuple[str, str]]:
    return re.findall(r"(\d+|\x00\d+\x01)(mo|ms|us|µs|ns|y|w|d|h|m|s)", text)
