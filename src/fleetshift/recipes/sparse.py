"""Sparse views: a recipe's LibCST work follows the statements it may act on, not the module's length.

A view of a Python text keeps every top-level statement a rule may act on ("hot") and replaces every other
top-level `def`, `async def` and `class` (with its decorators, and the comments indented under its end, which
LibCST gives to its block) by a one-line placeholder statement. Comments and blank lines between statements
stay as they are. A recipe rewrites the view; `splice` puts each original statement back where its
placeholder is, byte for byte, and maps the findings' lines back to the original text.

Hot is: every statement that is not a def or class (imports, assignments, `if` blocks: small and module-wide);
every def or class holding a site a rule's check reported; and, to a fixpoint, every def or class that mentions
a name bound by a hot site statement or defined by a hot def or class (the tests using a fixture, the callers of
a helper), or that defines a name a hot def or class or site mentions (the fixtures a test uses, the helpers it
calls), or that mentions one of the names a recipe declares it needs. A placeholder names the module-level
names its statement reads (`__fleetshift_cold_3__, asyncio, pytest`), so an import a cold statement uses stays
used for whatever asks.

A view that cannot be spliced exactly (a placeholder missing, moved, duplicated or edited, a finding on a
placeholder line or whose line cannot be told apart), or from which LibCST would take another first line break or
indent for the code it writes (`same_defaults`), is refused: the caller rewrites the whole module instead.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from fleetshift.model import Finding

PREFIX = "__fleetshift_cold_"
_BREAK = re.compile(r"\r\n|\r|\n")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
_WORD = re.compile(r"[A-Za-z_]\w*")
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


@dataclass(frozen=True)
class Segment:
    """One cold statement: its placeholder line (with the original's last line break), where the placeholder sits in
    the view (1-based line), the original text and how many lines it spans."""

    placeholder: str
    at: int
    text: str
    lines: int


@dataclass(frozen=True)
class View:
    """A sparse view; the first indent of the whole text and of the view when the whole text's tree told them
    (`tree_indent`; None: the tokenizer tells, see `same_defaults`)."""

    text: str
    segments: tuple[Segment, ...]
    source_indent: str | None = None
    indent: str | None = None


_TOP_DEF = re.compile(r"^(?:def|async|class|@)", re.MULTILINE)
WORTH = 4  # top-level defs, classes and decorators a module needs before a view of it can pay for its sites


def worth(text: str) -> bool:
    """Whether a module is long enough for a sparse view to save more than finding its sites costs: a file where
    no check reports a site goes through no LibCST anyway, and a short one has little to leave out."""
    found = 0
    for _ in _TOP_DEF.finditer(text):  # the first WORTH are enough
        found += 1
        if found >= WORTH:
            return True
    return False


def first_newline(text: str) -> str:
    """The text's first line break (what LibCST writes new lines with), "" when it has none."""
    found = _BREAK.search(text)
    return found.group() if found else ""


def first_indent(text: str) -> str | None:
    """The indent of the text's first indented block (what LibCST indents new blocks with; four spaces when it has
    none), or None when the tokenizer cannot tell."""
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.INDENT:
                return tok.string
    except (tokenize.TokenError, SyntaxError):
        return None
    return "    "


def tree_indent(text: str, tree: ast.Module, lines: Sequence[str]) -> tuple[str, int] | None:
    """What `first_indent` finds in a text that parses (`tree`, split in `lines`), read off the tree without the
    tokenizer, with the index of the top-level statement holding it (-1: the text has no indented block); None
    when the tree alone cannot tell. The first indented block is the first top-level compound statement's: what
    comes before it are simple statements, whose other lines continue their first one (no backslash joins lines:
    else it cannot tell), and the lines of its own header continue its first line too. It begins with the first
    statement of its body when that starts its own line, indented by spaces and tabs alone (else it cannot tell:
    a body on the header's line, a `match`, a form feed or a lone carriage return)."""
    return _first(leads(text, tree, lines))


def leads(text: str, tree: ast.Module, lines: Sequence[str]) -> tuple[str | None, ...] | None:
    """For each top-level statement of a text that parses, what `tree_indent` reads of it: None for a simple
    statement, the indent of the first statement of its body for a compound one, "" when that cannot tell (see
    `tree_indent`); None when the text cannot tell at all. A view keeps its statements' lines as they are, and its
    placeholders are simple statements: its first indent is that of its first compound statement kept."""
    if "\\\n" in text or "\\\r" in text or "\f" in text or ("\r" in text and text.count("\r") != text.count("\r\n")):
        return None
    out: list[str | None] = []
    known: dict[bytes, str] = {}  # one string per indent (the outline is kept: a string met again is a reference)
    for stmt in tree.body:
        if isinstance(stmt, ast.Match):
            out.append("")
            continue
        body = getattr(stmt, "body", None)
        if body.__class__ is not list:
            out.append(None)  # a simple statement
            continue
        first = body[0]
        if not 0 < first.lineno <= len(lines):
            out.append("")
            continue
        lead = lines[first.lineno - 1].encode()[:first.col_offset]
        if not lead or lead.strip(b" \t"):
            out.append("")
            continue
        out.append(known.setdefault(lead, lead.decode()))
    return tuple(out)


def _first(indents: Sequence[str | None] | None, kept: Sequence[bool] | None = None) -> tuple[str, int] | None:
    """The first indent (with its statement's index, -1 for none) of the statements (those `kept`, when given) whose
    `leads` are `indents`; None when they cannot tell."""
    if indents is None:
        return None
    for i, lead in enumerate(indents):
        if lead is not None and (kept is None or kept[i]):
            return (lead, i) if lead else None
    return "    ", -1


def same_defaults(v: View, text: str) -> bool:
    """Whether LibCST writes new lines and blocks in the view as it would in the whole text: the same first line
    break and the same first indent (a left-out def may hold the module's first indented block)."""
    if first_newline(v.text) != first_newline(text):
        return False
    indent = v.source_indent if v.source_indent is not None else first_indent(text)
    return indent is not None and (v.indent if v.indent is not None else first_indent(v.text)) == indent


def lines_of(text: str) -> list[str]:
    """The text's lines with their breaks, as Python counts them (`\\r\\n`, `\\r` and `\\n`)."""
    return _LINE.findall(text)


# fields that hold no name a view looks at: contexts and operators (singletons without fields), and plain values
_LEAVES = frozenset({"ctx", "op", "ops", "id", "attr", "arg", "name", "asname", "module", "level", "kind",
                     "type_comment", "conversion", "is_async", "rest", "kwd_attrs", "tag"})
_CHILDREN: dict[type, tuple[str, ...]] = {}  # node class -> the fields `_mentions` visits


def _children(kind: type) -> tuple[str, ...]:
    """The fields of a node class that may hold a node whose names a view reads (none for a plain value)."""
    out: tuple[str, ...] = ()
    if issubclass(kind, ast.AST):
        out = tuple(f for f in kind._fields if f not in _LEAVES
                    and not (kind is ast.Constant and f == "value") and kind not in (ast.Global, ast.Nonlocal))
    _CHILDREN[kind] = out
    return out


def _mentions(node: ast.AST) -> tuple[set[str], set[str]]:
    """The names a statement mentions (names, arguments, attributes, identifiers inside short strings), and the
    plain names it reads. Its nodes are visited by their fields (what `ast.walk` visits, in another order, without
    its generators: a view reads every statement of the module), not the fields that hold contexts, operators or
    plain values (`_LEAVES`); a plain value or None met in a list is passed over."""
    words: set[str] = set()
    reads: set[str] = set()
    add = words.add
    todo: list[object] = [node]
    pop, push, extend = todo.pop, todo.append, todo.extend
    children = _CHILDREN
    while todo:
        n: Any = pop()
        kind = n.__class__
        if kind is ast.Name:
            add(n.id)
            if n.ctx.__class__ is ast.Load:
                reads.add(n.id)
            continue  # its only child is its context
        if kind is ast.Constant:
            value = n.value
            if isinstance(value, str) and len(value) <= 200:
                words.update(_WORD.findall(value))
            continue
        if kind is ast.Attribute:
            add(n.attr)
        elif kind is ast.arg:
            add(n.arg)
        elif kind in _DEFS:
            add(n.name)
        elif kind is ast.alias:
            add((n.asname or n.name).split(".")[0])
        elif kind is ast.Global or kind is ast.Nonlocal:
            words.update(n.names)
            continue
        fields = children.get(kind)
        if fields is None:
            fields = _children(kind)
        for name in fields:
            value = getattr(n, name, None)
            if value.__class__ is list:
                extend(value)
            elif value is not None:
                push(value)
    return words, reads


def _binds(node: ast.stmt) -> set[str]:
    """The module-level names a top-level statement binds."""
    if isinstance(node, _DEFS):
        return {node.name}
    out: set[str] = set()
    stack: list[ast.AST] = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, _DEFS):
            out.add(n.name)
            continue  # what a nested def binds is its own
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            out.add(n.id)
        elif isinstance(n, ast.alias):
            out.add((n.asname or n.name).split(".")[0])
        stack.extend(ast.iter_child_nodes(n))
    return out


# What `view` reads of a module's tree, in plain containers (the scan keeps one for each module holding a site, see
# `model.Detection.outlines`): the digest of the bytes the text was decoded from (b"" when none was taken), the names
# the masks below index (every module-level name a top-level statement binds, and the names a recipe needs), sorted;
# each top-level statement as (its first line, its first decorator's when it has one; its last line; whether it is a
# def or class; the names it binds, those it mentions and the plain names it reads, as masks over the names), and
# what `tree_indent` reads of each (`leads`). The mentions of a statement hot whatever the sites (not a def or class) are left out (0) when
# it holds none of the sites given.
Outline = tuple[bytes, tuple[str, ...], tuple[tuple[int, int, bool, int, int, int], ...], "tuple[str | None, ...] | None"]


def outline(text: str, tree: ast.Module, needs: Collection[str] = (), sites: Collection[int] | None = None,
            digest: bytes = b"") -> Outline:
    """The outline of `text`, whose `ast` is `tree`, over the module's names and `needs`; the mentions of every
    statement when `sites` is None, else those of the defs, the classes and the statements holding one of `sites`.
    `view` asks no more of a name than whether a statement binds or mentions it, and a name a statement mentions
    that no statement binds and no recipe needs makes no statement hot: the masks leave such names out."""
    body = tree.body
    binds = [_binds(s) for s in body]
    names = tuple(sorted(set(needs).union(*binds)))
    bit = {name: 1 << i for i, name in enumerate(names)}
    get = bit.get

    def mask(of: Iterable[str]) -> int:
        out = 0
        for name in of:
            b = get(name)
            if b is not None:
                out |= b
        return out

    statements = []
    for s, bound in zip(body, binds, strict=True):
        decorators = getattr(s, "decorator_list", ())
        start = min([s.lineno, *(d.lineno for d in decorators)]) if decorators else s.lineno
        end = s.end_lineno or s.lineno
        is_def = isinstance(s, _DEFS)
        if is_def or sites is None or any(start <= line <= end for line in sites):
            words, reads = _mentions(s)
            statements.append((start, end, is_def, mask(bound), mask(words), mask(reads)))
        else:
            statements.append((start, end, is_def, mask(bound), 0, 0))
    return digest, names, tuple(statements), leads(text, tree, lines_of(text))


def covers(o: Outline, needs: Collection[str]) -> bool:
    """Whether `view_of` may be given `o` with `needs`: each of them one of its names."""
    names = o[1]
    return all(name in names for name in needs) if len(needs) < 8 else set(needs) <= set(names)


def view(text: str, tree: ast.Module, sites: Collection[int], needs: Collection[str] = ()) -> View | None:
    """The sparse view of `text` (whose `ast` is `tree`) given the lines of the sites a rule's check reported and
    the names a recipe needs; None when nothing would be left out (or the text cannot have placeholders)."""
    if PREFIX in text or not any(isinstance(s, _DEFS) for s in tree.body):
        return None
    return view_of(text, outline(text, tree, needs, sites), sites, needs)


def view_of(text: str, o: Outline, sites: Collection[int], needs: Collection[str] = ()) -> View | None:
    """`view` read off the text's outline (`outline`, whose names hold every name of `needs`: see `covers`)."""
    if PREFIX in text:
        return None
    _, names, statements, indents = o
    if not any(s[2] for s in statements):
        return None
    n = len(statements)
    site_at = [False] * n
    for line in sites:
        if line <= 0:
            return None
        for i, s in enumerate(statements):
            if s[0] <= line <= s[1]:
                site_at[i] = True
                break
    hot = [site_at[i] or not s[2] for i, s in enumerate(statements)]
    bit = {name: 1 << i for i, name in enumerate(names)} if needs else {}
    wanted_names = 0  # names whose mention makes a def hot
    for name in needs:
        wanted_names |= bit[name]
    wanted_defs = 0  # names whose definition is hot
    for i, s in enumerate(statements):
        if site_at[i]:
            wanted_names |= s[3]
            wanted_defs |= s[4]
    changed = True
    while changed:
        changed = False
        for i, s in enumerate(statements):
            if hot[i]:
                continue
            if s[4] & wanted_names or s[3] & wanted_defs:
                hot[i] = changed = True
                wanted_names |= s[3]
                wanted_defs |= s[4]
    if all(hot):
        return None
    module_names = 0
    for s in statements:
        if not s[2]:
            module_names |= s[3]
    lines = lines_of(text)
    out: list[str] = []
    segments: list[Segment] = []
    at = 0  # lines taken from `lines` so far
    for i, (start, end, _, _, _, reads) in enumerate(statements):
        if hot[i]:
            continue
        end = _footer(lines, end)
        out.extend(lines[at:start - 1])
        original = "".join(lines[start - 1:end])
        brk = _BREAK.search(lines[end - 1])
        token = f"{PREFIX}{len(segments)}__"
        used = reads & module_names
        placeholder = ", ".join([token, *(name for j, name in enumerate(names) if used >> j & 1)]) + (
            brk.group() if brk else "")
        out.append(placeholder)
        segments.append(Segment(placeholder, len(out), original, end - start + 1))
        at = end
    out.extend(lines[at:])
    known = _first(indents)
    if known is None:
        return View("".join(out), tuple(segments))
    kept = known if known[1] < 0 or hot[known[1]] else _first(indents, hot)  # the view's: its first compound kept
    return View("".join(out), tuple(segments), known[0], kept[0] if kept is not None else None)


def _footer(lines: Sequence[str], end: int) -> int:
    """`end` extended over the comment lines indented under a block's last line (with the blank lines among
    them), which LibCST keeps in the block."""
    last = end
    j = end
    while j < len(lines):
        stripped = lines[j].strip()
        if not stripped:
            j += 1
            continue
        if stripped.startswith("#") and lines[j][0] in " \t":
            j += 1
            last = j
            continue
        break
    return last


def splice(v: View, new: str) -> tuple[str, list[int]] | None:
    """`new` (a rewrite of the view) with each placeholder replaced by its original statement, and where each
    placeholder stood in `new` (1-based lines); None when a placeholder is missing, moved, duplicated or edited."""
    if new.count(PREFIX) != len(v.segments):
        return None
    parts: list[str] = []
    where: list[int] = []
    pos = 0
    line = 1
    for seg in v.segments:
        found = new.find(seg.placeholder, pos)
        if found < 0 or (found and new[found - 1] not in "\r\n"):
            return None
        if not seg.placeholder.endswith(("\r", "\n")) and found + len(seg.placeholder) != len(new):
            return None
        if new[found + len(seg.placeholder):found + len(seg.placeholder) + 1] == "\n" and seg.placeholder.endswith("\r"):
            return None  # a '\r' placeholder now read as part of '\r\n'
        chunk = new[pos:found]
        line += len(_BREAK.findall(chunk))
        where.append(line)
        line += 1
        parts += [chunk, seg.text]
        pos = found + len(seg.placeholder)
    parts.append(new[pos:])
    out = "".join(parts)
    if out not in _PARSES:  # whether it parses is told when asked (`parses`), as `vouch` tells it
        _SPLICED[out] = (v, new, where)
        if len(_SPLICED) > 64:
            _SPLICED.pop(next(iter(_SPLICED), None), None)
    return out, where


# texts spliced from a view whose rewrite parses, each placeholder a whole top-level statement line of it (`vouch`)
_PARSES: dict[str, None] = {}
# the texts `splice` made, not vouched for yet: the view, its rewrite and where its placeholders stand in the rewrite
_SPLICED: dict[str, tuple[View, str, list[int]]] = {}


def vouch(v: View, rewritten: str, after: Sequence[int], new: str) -> None:
    """Record that `new` (`splice` of `rewritten`, a rewrite of `v`, whose placeholders stand at `after`) parses, when
    `rewritten` parses and each placeholder is a whole top-level statement of it: alone on its logical line, from its
    first column to its end. Each original statement put back is a whole top-level statement of a text that parsed
    (its whole lines, from its first decorator to its last line or the comments indented under it), so in its
    placeholder's stead it is read as it was read there: a statement begins at the first column of a new logical line
    with no block open, and what follows the placeholder was read after a complete statement. One whose last line
    ends in a backslash joins the next line to its own, so a view holding one vouches for nothing. `parses` answers
    for `new` without parsing it: small views stand for the long modules they are cut from."""
    if not v.segments or len(after) != len(v.segments):
        return
    if any(seg.text.rstrip("\r\n").endswith("\\") for seg in v.segments):
        return
    from fleetshift.recipes._ast import parse_tree

    try:
        tree = parse_tree(rewritten)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return
    first: dict[int, ast.stmt] = {}
    for stmt in tree.body:
        first.setdefault(stmt.lineno, stmt)
    for seg, line in zip(v.segments, after, strict=True):
        stmt = first.get(line)
        if (stmt is None or stmt.col_offset != 0 or stmt.end_lineno != line
                or stmt.end_col_offset != len(seg.placeholder.rstrip("\r\n"))):
            return
    _PARSES[new] = None
    if len(_PARSES) > 64:
        _PARSES.pop(next(iter(_PARSES), None), None)


def parses(text: str) -> bool:
    """Whether `vouch` recorded that `text` parses, or would for the splice that made it (False: not known, it may
    parse or not)."""
    if text in _PARSES:
        return True
    spliced = _SPLICED.pop(text, None)
    if spliced is not None:
        v, rewritten, after = spliced
        vouch(v, rewritten, after, text)
    return text in _PARSES


# the views made so far of each whole text (`made`), for a question the view answers for the whole text
_VIEWS: dict[str, tuple[str, ...]] = {}


def made(v: View, text: str) -> None:
    """Record that `v` is a view of `text`: each of its top-level statements but the placeholders is one of `text`'s,
    as it is there (a placeholder names names; it imports, defines and calls nothing)."""
    known = _VIEWS.get(text, ())
    if v.text not in known:
        _VIEWS[text] = (*known, v.text)
        if len(_VIEWS) > 64:
            _VIEWS.pop(next(iter(_VIEWS), None), None)


def views_of(text: str) -> tuple[str, ...]:
    """The views of `text` recorded by `made`."""
    return _VIEWS.get(text, ())


def forget() -> None:
    """Drop what `vouch` and `made` recorded (see `_ast.forget`)."""
    _PARSES.clear()
    _SPLICED.clear()
    _VIEWS.clear()


def map_line(v: View, line: int, after: Sequence[int] | None) -> int | None:
    """The original's line for a line of the view (or, when `after` is given, a line that may be of the rewritten
    view, whose placeholders stand at `after`); None when it is a placeholder's or cannot be told."""
    if line <= 0:
        return line
    before = [s.at for s in v.segments]
    count = sum(1 for a in before if a < line)
    if line in before:
        return None
    if after is not None and after != before:
        if line in after or sum(1 for a in after if a < line) != count:
            return None
    return line + sum(s.lines - 1 for s in v.segments[:count])


def map_findings(v: View, path: str, findings: Iterable[Finding], after: Sequence[int] | None) -> list[Finding] | None:
    """The findings on `path` moved to the original's lines (others as they are); None when one cannot be."""
    out: list[Finding] = []
    for f in findings:
        if f.file != path or f.line <= 0:
            out.append(f)
            continue
        line = map_line(v, f.line, after)
        if line is None:
            return None
        out.append(f if line == f.line else replace(f, line=line))
    return out
