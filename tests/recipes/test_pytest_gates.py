"""The pytest and pytest-asyncio checks look in a module's text before they walk its tree
(fleetshift.recipes.pytest_asyncio.gates), and their recipes' tokens choose the files they read at all: neither
changes a site. Detection runs with the gates and without them (`gates.GATES` off: every check walks what it did
before it looked in the text), and with the recipes' tokens and the wider ones they had, over every rule case of
both recipes, every project of tests/projects, a generated fleet and modules written to reach each gate's edge
(aliases, star imports, decorators over several lines, f-strings, strings written in pieces or with escapes,
non-ASCII identifiers, "\\r" line breaks): the sites are the same, in the same order."""

from __future__ import annotations

import ast
import importlib
import re
import sys
import textwrap
import unicodedata
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from fleetshift.model import UsageSite
from fleetshift.recipes import get
from fleetshift.recipes.base import Recipe, SourceFile, file_kind
from fleetshift.recipes.pytest9.rules.removed_in_9_warning import MAY_NAME, NAME
from fleetshift.recipes.pytest_asyncio import gates

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
import fleetgen  # noqa: E402

RECIPES = ("pytest", "pytest-asyncio")
# the tokens each recipe had before they were narrowed (what a narrowing is compared with)
OLD_TOKENS = {
    "pytest": (
        b"pytest_", b"from_parent", b"importorskip", b"PytestRemovedIn9Warning", b"yield_fixture", b"parametrize",
        b"fixture", b"inicfg", b"console_main", b"def test",
    ),
    "pytest-asyncio": (b"event_loop", b"asyncio", b"async def", b"pytest_asyncio"),
}  # fmt: skip

EDGES = '''
import asyncio

import pytest
from pytest import fixture as fx, mark as m
from pytest.mark import parametrize as p, asyncio as aio, usefixtures as uf
import pytest_asyncio as pa
from pytest_asyncio import plugin
from pytest_asyncio.plugin import SubRequest as SR
from pytest import *


def gen():
    yield 1


@p("a", gen())
def test_a(a):
    pass


@m.parametrize("a", [1], True)
def test_b(a):
    pass


@fx
@aio
async def fix():
    pass


@fx(
    scope="module",
)
@m.usefixtures("x")
def fix2():
    pass


@pytest.fixture
@pytest.mark.asyncio(
    scope="module"
)
def far(
):
    pass


class TestC:
    @fx(scope="class")
    def meth(self):
        return self.other

    @pytest.fixture(scope="session")
    def plain(self):
        return 1

    def test_gen(self):
        yield 1


x = f"{pytest.mark.parametrize('a', (i for i in range(3)))}"
y = f"""
{p('b',
   (i for i in range(2)), False)}
"""
W1 = "Pytest" "RemovedIn9Warning"
W2 = "\\x50ytestRemovedIn9Warning"
W3 = ("PytestRemo"  # in two pieces
      "vedIn9Warning")
W4 = "PytestRemo\\
vedIn9Warning"
W5 = "Pytest\\N{LATIN CAPITAL LETTER R}emovedIn9Warning"


def test_gen():
    yield 1


def  test_spaced():
    x = (yield)


async def test_unmarked(event_loop):
    loop = asyncio.get_event_loop()
    loop.stop()
    event_loop.run_until_complete(f())


@uf("event_loop")
def test_uses(request):
    request.getfixturevalue("event_loop")


pa.plugin.wrap_in_sync
plugin.SubRequest
pytest.console_main
config.inicfg
node.from_parent(parent, fspath=p)
pytest.importorskip("x")


def pytest_collect_file(path, parent):
    return path.ext


@pytest.fixture
def event_loop():
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture(scope="module")
async def wide():
    pass
'''
# what the module above holds: the rules each recipe must find in it (so a gate that hid them would fail)
EDGE_RULES = {
    "pytest": {
        "parametrize-generator", "parametrize-keywords", "mark-on-fixture", "mark-on-fixture-human",
        "fixture-instance-method", "fixture-instance-method-human", "removed-in-9-warning", "yield-test",
        "deprecated-9-1", "from-parent-fspath", "importorskip-exc-type", "hook-path-args",
    },
    "pytest-asyncio": {
        "marker-scope", "mark-on-fixture", "removed-import", "subrequest-import", "event-loop-request",
        "get-event-loop", "running-loop-stop", "event-loop-fixture", "event-loop-override", "strict-async-fixture",
        "fixture-loop-scope", "unmarked-async-test",
    },
}  # fmt: skip


def _dedent(text: str) -> str:
    return textwrap.dedent(text[1:] if text.startswith("\n") else text)


def _case_services() -> Iterator[tuple[str, dict[str, str]]]:
    for module in ("test_pytest9", "test_pytest_asyncio"):
        for n, case in enumerate(importlib.import_module(module).CASES):
            extra = {p: _dedent(t) for p, t in case.extra_files.items()}
            for side, text in (("before", case.before), ("after", case.after)):
                if text is not None:
                    yield f"{module}:{n}:{case.rule}:{side}", {**extra, case.path: _dedent(text)}


def _edge_services() -> Iterator[tuple[str, dict[str, str]]]:
    text = EDGES.lstrip()
    wide = text.replace("def test_a(a)", "def test_ａ(a)").replace("@p(", "@ｐ(")  # NFKC: ａ is a, ｐ is p
    for name, variant in (("lf", text), ("crlf", text.replace("\n", "\r\n")), ("cr", text.replace("\n", "\r")),
                          ("nfkc", wide)):
        yield f"edges-{name}", {"svc/tests/test_edges.py": variant, "svc/tests/conftest.py": variant}


def _tree_services(root: Path) -> Iterator[tuple[str, dict[str, str]]]:
    for service in sorted(p for p in root.iterdir() if p.is_dir()):
        files = {p.relative_to(root).as_posix(): p.read_text(errors="replace") for p in sorted(service.rglob("*.py"))}
        if files:
            yield service.name, files


def detect(recipe: Recipe, files: Mapping[str, str], tokens: tuple[bytes, ...]) -> list[UsageSite]:
    """What a scan of the service finds (its files holding one of `tokens` parsed and read by the recipe)."""
    sources = []
    for path, text in files.items():
        if path.endswith(".py") and any(t in text.encode("utf-8", "surrogateescape") for t in tokens):
            try:
                sources.append(SourceFile(path, text, ast.parse(text), file_kind(path)))
            except (SyntaxError, ValueError):
                continue
    return list(recipe.detect_service(sources, files))


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, dict[str, str]]]:
    fleet = tmp_path_factory.mktemp("fleet")
    fleetgen.generate(fleet, 8, 34, 0.10)
    return [
        *_case_services(),
        *_edge_services(),
        *_tree_services(ROOT / "tests" / "projects"),
        *_tree_services(fleet / "services"),
    ]


@pytest.mark.parametrize("rid", RECIPES)
def test_the_gates_change_no_site(rid: str, services: list[tuple[str, dict[str, str]]],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    recipe = get(rid)
    gated = [detect(recipe, files, recipe.tokens) for _, files in services]
    monkeypatch.setattr(gates, "GATES", False)
    ungated = [detect(recipe, files, recipe.tokens) for _, files in services]
    for (name, _), a, b in zip(services, gated, ungated, strict=True):
        assert a == b, f"{rid} on {name}: with the gates {a}, without {b}"
    assert sum(map(len, gated)) > 100  # the corpus holds sites


@pytest.mark.parametrize("rid", RECIPES)
def test_the_tokens_change_no_site(rid: str, services: list[tuple[str, dict[str, str]]]) -> None:
    recipe = get(rid)
    for name, files in services:
        assert detect(recipe, files, recipe.tokens) == detect(recipe, files, OLD_TOKENS[rid]), name


@pytest.mark.parametrize("rid", RECIPES)
def test_the_edges_hold_a_site_of_every_gated_rule(rid: str) -> None:
    recipe = get(rid)
    for name, files in _edge_services():
        found = {s.rule.split("/", 1)[1] for s in detect(recipe, files, recipe.tokens)}
        assert EDGE_RULES[rid] <= found, f"{name}: {sorted(EDGE_RULES[rid] - found)} not found"


def _spellings(k: int) -> Iterator[str]:
    """The warning's name in string literals, written with one irregularity at its k-th letter: the literal
    split there (side by side, over a comment, a backslash-newline in the string), or the letter escaped."""
    head, c, tail = NAME[:k], NAME[k], NAME[k + 1 :]
    yield f'"{head}" "{c}{tail}"'
    yield f'("{head}"  # two pieces\n "{c}{tail}")'
    yield f'"{head}" \\\n"{c}{tail}"'
    yield f'"{head}\\\n{c}{tail}"'
    yield f'"""{head}""" f\'{c}{tail}\''
    for escaped in (f"\\x{ord(c):02x}", f"\\{ord(c):o}", f"\\u{ord(c):04x}", f"\\U{ord(c):08x}",
                    f"\\N{{{unicodedata.name(c)}}}"):
        yield f'"{head}{escaped}{tail}"'
        yield f'"{head}" "{escaped}" "{tail}"'


@pytest.mark.parametrize("k", range(len(NAME)))
def test_the_warning_gate_finds_every_spelling(k: int) -> None:
    for literal in _spellings(k):
        source = f"x = {literal}\n"
        named = any(
            isinstance(n, ast.Constant) and isinstance(n.value, str) and NAME in n.value
            for n in ast.walk(ast.parse(source))
        )
        assert named, source  # each spelling spells the name
        assert MAY_NAME.search(source), source


def test_the_warning_gate_passes_over_strings_that_cannot_spell_it() -> None:
    for source in ('x = "HTTP"\n', 'x = ["HTTP", "get"]\n', 'x = "Pytest"\ny = 1\n', "x = r'\\d+'\n"):
        assert not MAY_NAME.search(source), source
    assert re.fullmatch(MAY_NAME, NAME)
