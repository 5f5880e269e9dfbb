"""Sparse views change nothing: a recipe that rewrites only the statements a rule may act on (`recipe.sparse`,
see fleetshift.recipes.sparse) produces the texts and findings the whole-module rewrite produces.

Every recipe's chain runs sparse and whole (`base.SPARSE`) over the demo fleet and every project under
tests/projects; every case of the recipes' CASES lists runs both ways as it is, and every positive case also
embedded in a long module of unrelated code (defs, classes, tests and fixtures named like the case's, decorators,
comments between statements and under blocks, tabs, `;`, a backslash continuation, CRLF, no final newline, a
BOM). A fix that edits a placeholder makes its file fall back to the whole-module rewrite, with the same output.
"""

from __future__ import annotations

import ast
import keyword
import sys
import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from fleetshift.config import load_config
from fleetshift.discover import discover
from fleetshift.model import Finding, Service
from fleetshift.recipes import all_recipes, base, fixes, get, sparse
from fleetshift.scancache import ScanCache

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "recipes"))

from test_rewrite_gate import FLEETS, _files, run_chain  # noqa: E402

SPARSE = [r.id for r in sorted(all_recipes(), key=lambda r: r.order) if r.sparse]


class Spliced:
    """Counts the views spliced back and refused, so a test can tell the sparse path was taken."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.done = self.refused = 0
        original = sparse.splice

        def counting(v: sparse.View, new: str) -> tuple[str, list[int]] | None:
            out = original(v, new)
            if out is None:
                self.refused += 1
            else:
                self.done += 1
            return out

        monkeypatch.setattr(sparse, "splice", counting)


def _chain(service: Service, files: Mapping[str, str], targets: Mapping[str, str], on: bool,
           monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, str], list[Finding]]:
    monkeypatch.setattr(base, "SPARSE", on)
    monkeypatch.setattr(sparse, "WORTH", 1)  # short modules too
    return run_chain(service, files, targets)


def test_some_recipe_is_sparse() -> None:
    assert SPARSE


@pytest.mark.parametrize("fleet", FLEETS, ids=lambda p: p.name)
def test_sparse_changes_nothing_on_fleets(fleet: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_config(fleet)
    services = discover(fleet, config, ScanCache(fleet, enabled=False)).services
    assert services
    for service in services:
        files = _files(fleet, service)
        for targets in ({}, config.target_specs()):
            on = _chain(service, files, targets, True, monkeypatch)
            off = _chain(service, files, targets, False, monkeypatch)
            assert on == off, f"{fleet.name}/{service.name} with targets {targets}"


def _cases() -> list[tuple[str, object]]:
    from test_rule_cases import ALL

    return [(rid, case) for rid, case in ALL if rid in SPARSE]


def _both(rid: str, files: Mapping[str, str], targets: Mapping[str, str] | None,
          monkeypatch: pytest.MonkeyPatch) -> list[tuple[dict[str, str], list[Finding]]]:
    from recipe_harness import _ctx

    monkeypatch.setattr(sparse, "WORTH", 1)  # short modules too
    results = []
    for on in (True, False):
        monkeypatch.setattr(base, "SPARSE", on)
        out = get(rid).migrate(_ctx(files, targets, False))
        results.append((out.texts, out.findings))
    return results


def _case_files(case: object) -> dict[str, str]:
    return {case.path: textwrap.dedent(case.before),  # type: ignore[attr-defined]
            **{p: textwrap.dedent(t) for p, t in dict(case.extra_files).items()}}  # type: ignore[attr-defined]


def test_sparse_changes_nothing_on_cases(monkeypatch: pytest.MonkeyPatch) -> None:
    cases = _cases()
    assert cases
    for rid, case in cases:
        on, off = _both(rid, _case_files(case), case.targets, monkeypatch)  # type: ignore[attr-defined]
        assert on == off, f"{rid}:{case.id()}"  # type: ignore[attr-defined]


# ---- long mixed modules --------------------------------------------------------------------------------------

def _names(text: str) -> list[str]:
    """Names the case defines or takes as parameters (its fixtures, helpers, clients), for the unrelated code to
    use too."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return []
    found: dict[str, None] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found.setdefault(node.name)
            for a in node.args.args:
                found.setdefault(a.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            found.setdefault(node.id)
    return [n for n in found if n.isidentifier() and not keyword.iskeyword(n) and n not in ("self", "cls")][:6]


def _unrelated(i: int, names: list[str]) -> str:
    uses = "".join(f"\n\ndef test_uses_{n}_{i}({n}):\n    # uses the case's {n}\n    assert {n} is not None\n"
                   for n in names)
    return f'''
# ---- unrelated section {i} ----
import asyncio
import json as _json_{i}

import pytest


def _plain_{i}(fn):
    return fn


@_plain_{i}
def helper_{i}(value):
    """Unrelated helper."""
    total = value * 2  # trailing comment
    return total
    # a comment indented under the block

    # and another after a blank line


class Unrelated{i}:
    attr = {i}

    @staticmethod
    def method(other):
        return _json_{i}.dumps(other)


def tabbed_{i}(x):
\tif x:
\t\treturn x
\treturn None
a_{i} = 1; b_{i} = 2
total_{i} = a_{i} + \\
    b_{i}


def test_unrelated_{i}():
    assert helper_{i}(1) == 2


@pytest.fixture
def unrelated_fixture_{i}():
    yield helper_{i}(2)


class TestUnrelated{i}:
    async def test_method(self, unrelated_fixture_{i}):
        assert unrelated_fixture_{i} == 4


async def test_async_unrelated_{i}():
    await asyncio.sleep(0)
{uses}

'''


def _embed(text: str, names: list[str], variant: str) -> str:
    if "__future__" in text:
        body = text + _unrelated(1, names) + _unrelated(2, names)
    else:
        body = _unrelated(1, names) + "\n\n" + text + _unrelated(2, names)
    body += "\n\ndef last_one():\n    return 1\n"
    return variant_of(body, variant, "__future__" in text)


def variant_of(body: str, variant: str, future: bool = False) -> str:
    """A module's text as one of VARIANTS: CRLF, no final line break, a BOM, a first indented block of two
    spaces (after the body when it opens with a `__future__` import), or as it is."""
    if variant == "crlf":
        return body.replace("\n", "\r\n")
    if variant == "no-eol":
        return body.rstrip("\n")
    if variant == "bom":
        return "\ufeff" + body
    if variant == "indent2":  # the module's first indented block, left out of a view, is indented by two spaces
        first = "def two_space_first():\n  if True:\n    return 1\n\n\n"
        return body + "\n\n" + first if future else first + body
    return body


VARIANTS = ("crlf", "no-eol", "bom", "indent2", "lf")


def test_sparse_changes_nothing_in_long_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    spliced = Spliced(monkeypatch)
    cases = [(rid, case) for rid, case in _cases() if case.positive]  # type: ignore[attr-defined]
    assert cases
    for n, (rid, case) in enumerate(cases):
        files = _case_files(case)
        path = case.path  # type: ignore[attr-defined]
        if not path.endswith(".py"):
            continue
        text = files[path]
        for variant in dict.fromkeys(("lf", "indent2", VARIANTS[n % len(VARIANTS)])):
            files[path] = _embed(text, _names(text), variant)
            on, off = _both(rid, files, case.targets, monkeypatch)  # type: ignore[attr-defined]
            assert on == off, f"{rid}:{case.id()} ({variant})"  # type: ignore[attr-defined]
    assert spliced.done > len(cases) // 2, "the long modules were not rewritten sparse"


class EditsPlaceholders:
    """A deliberately misbehaving fix: it renames every placeholder it meets (it changes nothing else)."""

    def leave_Name(self, original: object, updated: object) -> object:
        import libcst as cst

        assert isinstance(updated, cst.Name)
        if updated.value.startswith(sparse.PREFIX):
            return updated.with_changes(value="edited_" + updated.value)
        return updated


def test_an_edited_placeholder_falls_back_to_the_whole_module(monkeypatch: pytest.MonkeyPatch) -> None:
    from test_rule_cases import ALL

    apply = fixes.apply
    monkeypatch.setattr(fixes, "apply", lambda module, fs: apply(module, [*fs, EditsPlaceholders()]))
    spliced = Spliced(monkeypatch)
    checked = 0
    for rid, case in ALL:
        if rid not in SPARSE or not case.positive or not case.path.endswith(".py") or case.after is None:
            continue
        files = _case_files(case)
        files[case.path] = _embed(files[case.path], _names(files[case.path]), "lf")
        refused = spliced.refused
        on, off = _both(rid, files, case.targets, monkeypatch)
        assert on == off, f"{rid}:{case.id()}"
        checked += spliced.refused > refused
    assert checked, "no edited placeholder was refused"


# ---- what a splice vouches for (sparse.vouch: the rewrite stage parses a vouched text no more) ------------------

def test_every_vouched_text_parses(monkeypatch: pytest.MonkeyPatch) -> None:
    vouched: list[str] = []
    original = sparse.vouch

    def recording(v: sparse.View, rewritten: str, after: list[int], new: str) -> None:
        original(v, rewritten, after, new)
        if sparse.parses(new):
            vouched.append(new)

    monkeypatch.setattr(sparse, "vouch", recording)
    for n, (rid, case) in enumerate(_cases()):
        files = _case_files(case)
        path = case.path  # type: ignore[attr-defined]
        if not case.positive or not path.endswith(".py"):  # type: ignore[attr-defined]
            continue
        for variant in dict.fromkeys(("lf", VARIANTS[n % len(VARIANTS)])):
            files[path] = _embed(textwrap.dedent(case.before), _names(case.before), variant)  # type: ignore[attr-defined]
            _both(rid, files, case.targets, monkeypatch)  # type: ignore[attr-defined]
    assert vouched, "no sparse rewrite was vouched for"
    for text in vouched:
        ast.parse(text)


def _vouched(text: str, rewrite: Callable[[str], str]) -> tuple[str, bool]:
    """`text`'s view (its first def hot), rewritten by `rewrite` and spliced back, and whether it was vouched for."""
    tree = ast.parse(text)
    v = sparse.view(text, tree, [tree.body[1].lineno])
    assert v is not None and v.segments
    rewritten = rewrite(v.text)
    spliced = sparse.splice(v, rewritten)
    assert spliced is not None
    new, after = spliced
    sparse.forget()
    sparse.vouch(v, rewritten, after, new)
    return new, sparse.parses(new)


COLD = "import os\n\ndef hot():\n    return os.sep\n\ndef cold():\n    x = 1 \\\n\ny = 2\n"


def test_a_placeholder_put_inside_brackets_is_not_vouched_for() -> None:
    new, vouched = _vouched(COLD.replace("    x = 1 \\\n", "    x = 1\n"),
                            lambda t: t.replace(sparse.PREFIX, "z = (\n" + sparse.PREFIX).replace("\n\ny", "\n)\n\ny"))
    assert not vouched
    with pytest.raises(SyntaxError):
        ast.parse(new)
    new, vouched = _vouched(COLD.replace("    x = 1 \\\n", "    x = 1\n"), lambda t: t.replace("os.sep", "os.pathsep"))
    assert vouched and "pathsep" in new
    ast.parse(new)


def test_a_statement_ending_in_a_backslash_is_not_vouched_for() -> None:
    ast.parse(COLD)  # the backslash joins the blank line after it
    new, vouched = _vouched(COLD, lambda t: t.replace("\n\ny = 2", "\ny = 2"))
    assert not vouched
    with pytest.raises(SyntaxError):
        ast.parse(new)


def test_a_splice_is_vouched_for_when_asked(record_calls: Callable[[object, str], list[object]]) -> None:
    """A text `splice` made is vouched for when asked whether it parses (`sparse.parses`), whoever made the view and
    its rewrite (a recipe with views of its own, as aiomqtt's): the run's check of a rewritten module parses the
    rewritten view, not the whole module; a splice of a rewrite that does not parse is not vouched for."""
    from fleetshift.recipes import _ast
    from fleetshift.rewrite import _parses

    text = "import asyncio\n" + "".join(f"\n\ndef helper_{i}():\n    return {i}\n" for i in range(5))
    v = sparse.view(text, _ast.parse_tree(text), {text.splitlines().index("    return 0") + 1})
    assert v is not None and v.segments
    good = sparse.splice(v, v.text.replace("return 0", "return asyncio.sleep(0)"))
    bad = sparse.splice(v, v.text.replace("return 0", "return (0"))
    assert good is not None and bad is not None
    try:
        _ast.forget()
        parsed = record_calls(_ast, "_parse")
        assert _parses(good[0]) is None and sparse.parses(good[0])
        assert _parses(bad[0]) is not None and not sparse.parses(bad[0])
        assert good[0] not in parsed and bad[0] in parsed
    finally:
        sparse.forget()
