"""Whole Flux scripts -> one pipeline: variables bound to literals or pipelines are substituted, and what SQL
cannot express (`option`, `to()`, `integral()`) is cut off and named as a blocker, so a proposed SQL can
still be offered for the part that reads."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fleetshift.recipes.influxdb.flux.lexer import FluxError, Tok, tokenize

BLOCKING_CALLS = {
    "to": "to() writes the result into a bucket (a Flux task): run the SQL on a schedule and write its rows "
    "with client.write()",
    "integral": "integral() has no SQL equivalent: read the rows with the SQL and integrate them in Python "
    "(trapezoid rule over time)",
}


@dataclass(frozen=True)
class Prepared:
    """One pipeline's text and what keeps it from being an exact translation (empty: nothing)."""

    text: str
    blockers: tuple[str, ...] = ()


def _strip_comments(text: str) -> str:
    out, i, quoted = [], 0, False
    while i < len(text):
        c = text[i]
        if c == "\\" and quoted:
            out.append(text[i : i + 2])
            i += 2
            continue
        if c == '"':
            quoted = not quoted
        if not quoted and text.startswith("//", i):
            while i < len(text) and text[i] != "\n":
                i += 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _statements(toks: list[Tok], text: str) -> list[tuple[int, int]]:
    """(start, end) character spans of the top-level statements: a new line at depth 0 starts one unless it
    continues a pipe (`|>`) or an operator."""
    spans: list[tuple[int, int]] = []
    depth, start = 0, None
    prev: Tok | None = None
    for tok in toks:
        if tok.kind == "eof":
            break
        if start is None:
            start = tok.pos
        elif (
            depth == 0
            and "\n" in text[prev.end : tok.pos]  # type: ignore[union-attr]
            and tok.text != "|>"
            and prev.text not in ("|>", "=", ",", "(", "and", "or", "=>")  # type: ignore[union-attr]
        ):
            spans.append((start, prev.end))  # type: ignore[union-attr]
            start = tok.pos
        if tok.text in "([{" and tok.kind == "op":
            depth += 1
        elif tok.text in ")]}" and tok.kind == "op":
            depth -= 1
        prev = tok
    if start is not None and prev is not None:
        spans.append((start, prev.end))
    return spans


def prepare(text: str) -> Prepared:
    """The one pipeline a Flux script returns, with its variables substituted and its blockers named.

    Raises FluxError when the script is not one pipeline (several results, functions defined in it)."""
    text = _strip_comments(text)
    every = re.search(r"option\s+task\s*=\s*\{[^}]*\bevery\s*:\s*(\w+)", text)
    if every:  # the task's own period stands for `task.every` in what it reads
        text = re.sub(r"\btask\.every\b", every.group(1), text)
    toks = tokenize(text)
    blockers: list[str] = []
    variables: dict[str, str] = {}
    body: list[str] = []
    imports: list[str] = []
    for start, end in _statements(toks, text):
        stmt = text[start:end]
        m = re.match(r"option\s+([A-Za-z_][\w.]*)\s*=", stmt)
        if m:
            blockers.append(f"option {m.group(1)}: Flux options (tasks, now) have no SQL equivalent")
            continue
        if stmt.startswith("import"):
            imports.append(stmt)
            continue
        m = re.match(r"([A-Za-z_]\w*)\s*=(?![=~>])\s*", stmt)
        if m:
            variables[m.group(1)] = _substitute(stmt[m.end() :], variables)
            continue
        body.append(_substitute(stmt, variables))
    if len(body) != 1:
        raise FluxError("the script does not end in exactly one pipeline (several results or none)")
    pipeline = body[0]
    for name, why in BLOCKING_CALLS.items():
        cut = _cut_call(pipeline, name)
        if cut is not None:
            pipeline = cut
            blockers.append(why)
    return Prepared("\n".join([*imports, pipeline]), tuple(blockers))


def _substitute(stmt: str, variables: dict[str, str]) -> str:
    if not variables:
        return stmt
    toks = tokenize(stmt)
    out, last = [], 0
    for i, tok in enumerate(toks):
        if tok.kind != "ident" or tok.text not in variables:
            continue
        before = toks[i - 1].text if i else ""
        after = toks[i + 1].text if i + 1 < len(toks) else ""
        if before == "." or after == ":":  # r.name, or an argument named like the variable
            continue
        value = variables[tok.text]
        if "|>" in value and after != "|>" and before != "":
            value = f"({value})"
        out.append(stmt[last : tok.pos])
        out.append(value)
        last = tok.end
    out.append(stmt[last:])
    return "".join(out)


def _cut_call(pipeline: str, name: str) -> str | None:
    """The pipeline up to the stage `|> name(...)` (and without it and anything after), or None."""
    toks = tokenize(pipeline)
    for i, tok in enumerate(toks[:-2]):
        if tok.text == "|>" and toks[i + 1].text == name and toks[i + 2].text == "(":
            return pipeline[: tok.pos].rstrip()
    return None
