"""What a sparse view reads of each top-level statement (`sparse._mentions`) is what a walk of all its nodes reads."""

from __future__ import annotations

import ast
from pathlib import Path

from fleetshift.recipes import sparse

ROOT = Path(__file__).resolve().parent.parent
EDGES = """
import a.b.c as d, e.f
from g import h as i, j
global k
def f(x, /, y=1, *args, z: 'Ann' = 2, **kw):
    nonlocal_name = lambda q: q.attr
    class C(Base, metaclass=M):
        '''doc words here'''
    return [w for w in x if w], {**kw}, f"{y!r:>{z}}"
match v:
    case Point(x=0, y=yy) | [1, *rest] | {"k": kk, **others}:
        pass
async def g():
    async with a as (b, c):
        await d
    del e[0], f.g
"""


def _walked(node: ast.AST) -> tuple[set[str], set[str]]:
    words: set[str] = set()
    reads: set[str] = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Name):
            words.add(n.id)
            if isinstance(n.ctx, ast.Load):
                reads.add(n.id)
        elif isinstance(n, ast.Attribute):
            words.add(n.attr)
        elif isinstance(n, ast.arg):
            words.add(n.arg)
        elif isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            words.add(n.name)
        elif isinstance(n, ast.alias):
            words.add((n.asname or n.name).split(".")[0])
        elif isinstance(n, ast.Constant) and isinstance(n.value, str) and len(n.value) <= 200:
            words.update(sparse._WORD.findall(n.value))
        elif isinstance(n, ast.Global | ast.Nonlocal):
            words.update(n.names)
    return words, reads


def test_mentions_are_those_of_a_walk() -> None:
    texts = [EDGES] + [p.read_text(encoding="utf-8") for p in sorted((ROOT / "src").rglob("*.py"))]
    statements = [s for text in texts for s in ast.parse(text).body]
    assert len(statements) > 2000
    for stmt in statements:
        assert sparse._mentions(stmt) == _walked(stmt), ast.dump(stmt)[:200]


def _reference_view(text: str, tree: ast.Module, sites: set[int], needs: set[str]) -> sparse.View | None:
    """The view by sets of names over every statement's whole mentions (what `view` computed before outlines)."""
    body = tree.body
    defs = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    if sparse.PREFIX in text or not any(isinstance(s, defs) for s in body):
        return None
    spans = [(min([s.lineno, *(d.lineno for d in getattr(s, "decorator_list", ()))]), s.end_lineno or s.lineno)
             for s in body]
    site_at = [False] * len(body)
    for line in sites:
        if line <= 0:
            return None
        held = [i for i, (a, b) in enumerate(spans) if a <= line <= b]
        if held:
            site_at[held[0]] = True
    hot = [site_at[i] or not isinstance(s, defs) for i, s in enumerate(body)]
    mentions = [sparse._mentions(s) for s in body]
    binds = [sparse._binds(s) for s in body]
    names, wanted = set(needs), set()
    for i in range(len(body)):
        if site_at[i]:
            names |= binds[i]
            wanted |= mentions[i][0]
    while True:
        more = [i for i in range(len(body)) if not hot[i] and (mentions[i][0] & names or binds[i] & wanted)]
        if not more:
            break
        for i in more:
            hot[i] = True
            names |= binds[i]
            wanted |= mentions[i][0]
    if all(hot):
        return None
    module = set().union(*(binds[i] for i, s in enumerate(body) if not isinstance(s, defs)))
    lines = sparse.lines_of(text)
    out: list[str] = []
    segments = []
    at = 0
    for i in range(len(body)):
        if hot[i]:
            continue
        start, end = spans[i]
        end = sparse._footer(lines, end)
        out.extend(lines[at:start - 1])
        brk = sparse._BREAK.search(lines[end - 1])
        placeholder = ", ".join([f"{sparse.PREFIX}{len(segments)}__", *sorted(mentions[i][1] & module)])
        out.append(placeholder + (brk.group() if brk else ""))
        segments.append(sparse.Segment(out[-1], len(out), "".join(lines[start - 1:end]), end - start + 1))
        at = end
    out.extend(lines[at:])
    known = sparse.tree_indent(text, tree, lines)
    if known is None:
        return sparse.View("".join(out), tuple(segments))
    return sparse.View("".join(out), tuple(segments), known[0], known[0] if known[1] < 0 or hot[known[1]] else None)


def test_a_view_read_off_an_outline_is_the_view_of_the_tree() -> None:
    """`view_of` on a module's outline (over its module-level names only, as the scan keeps it, when the names a
    recipe needs are among them; else over them too) makes the view the whole statements' names make, and the first
    indents it tells are the tokenizer's."""
    import random

    rnd = random.Random(13)
    texts = [EDGES] + [p.read_text(encoding="utf-8") for p in sorted((ROOT / "src").rglob("*.py"))]
    compared = outlined = told = 0  # told: the view's first indent read off the tree, where the text's is in a cold def
    for text in texts:
        tree = ast.parse(text)
        count = text.count("\n") + 1
        words = sorted(set(sparse._WORD.findall(text)))
        whole = sparse.outline(text, tree)
        for k in range(6):
            sites = {rnd.randint(1, count) for _ in range(rnd.randint(1, 4))}
            needs = set(rnd.sample(words, min(len(words), k % 3)))
            expected = _reference_view(text, tree, sites, needs)
            got = [sparse.view(text, tree, sites, needs),
                   sparse.view_of(text, sparse.outline(text, tree, needs, sites), sites, needs)]
            if sparse.covers(whole, needs):
                outlined += 1
                got.append(sparse.view_of(text, whole, sites, needs))
            for v in got:
                assert _told(v, text) == _told(expected, text)
                if v is not None and expected is not None:
                    told += v.indent is not None and expected.indent is None
                    assert v.source_indent == expected.source_indent
            compared += expected is not None
    assert compared > 300 and outlined > 300 and told > 100


def _told(v: sparse.View | None, text: str) -> tuple[object, ...] | None:
    """A view with the first indents it tells (read off the tree, else the tokenizer's), which are the tokenizer's."""
    if v is None:
        return None
    indents = (sparse.first_indent(text), sparse.first_indent(v.text))
    assert v.source_indent in (None, indents[0]) and v.indent in (None, indents[1])
    return v.text, v.segments, indents
    assert not sparse.covers(sparse.outline("def f():\n    pass\n", ast.parse("def f():\n    pass\n")), {"g"})
