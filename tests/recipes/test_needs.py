"""A module is parsed for a recipe only when its text may hold a site of one of the recipe's rules
(fleetshift.recipes.needs): every site found holds its rule's `NEEDS`, and pytest-asyncio finds none in the modules
it declines. The scan's service-level detection (fleetshift.scan.scan_service) runs with the needs and without
them (`needs.CONDITIONS` off: every module holding a token parsed) over every rule case of pytest 9 and
pytest-asyncio, modules written to reach the gates' edges, every project of tests/projects, the demo fleet and a
generated fleet: the same sites in the same order, the same findings, and each recipe's record for the run vouches
for the same files (a module not parsed is among its sources with no site, as one parsed and found empty is)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from test_pytest_gates import _case_services, _edge_services, _tree_services

from fleetshift import scan
from fleetshift.recipes import all_recipes, get, needs
from fleetshift.recipes._ast import parse_tree
from fleetshift.recipes.base import Recipe, SourceFile, file_kind

ROOT = Path(__file__).resolve().parents[2]
SERVICE_LEVEL = [r for r in all_recipes() if r.service_level]


# each rule's site in the fewest words (a module each): a need asking for more than a site must hold fails here
MINIMAL = {
    "deprecated-9-1": "import pytest\npytest.console_main\n",
    "fixture-instance-method": "import pytest\nclass C:\n    @pytest.fixture(scope='class')\n    def f(self):\n        pass\n",
    "fixture-instance-method-human": "import pytest\nclass C:\n    @pytest.fixture(scope='class')\n    def f(self):\n"
                                     "        self.x = 1\n",
    "from-parent-fspath": "N.from_parent(p, fspath=x)\n",
    "hook-path-args": "def pytest_collect_file(path, parent):\n    return path.ext\n",
    "hook-path-args-human": "def pytest_collect_file(path, parent):\n    return path.join('x')\n",
    "importorskip-exc-type": "from pytest import importorskip as i\ni('x')\n",
    "mark-on-fixture": "from pytest import fixture as f, mark as m\n@f\n@m.asyncio\ndef x():\n    pass\n",
    "mark-on-fixture-human": "from pytest import fixture as f, mark as m\n@f\n@m.skip\ndef x():\n    pass\n",
    "parametrize-generator": "from pytest.mark import parametrize as p\n@p('a', (i for i in 'x'))\ndef f(a):\n    pass\n",
    "parametrize-keywords": "from pytest.mark import parametrize as p\n@p('a', [1], True)\ndef f(a):\n    pass\n",
    "removed-in-9-warning": "W = 'Pytest' 'RemovedIn9Warning'\ndef test():\n    pass\n",  # a token: def test
    "removed-in-9-warning-code": "import pytest\npytest.PytestRemovedIn9Warning\n",
    "yield-fixture": "from pytest import yield_fixture\n",
    "yield-test": "def test():\n    yield\n",
}

# a fixture decorator and a mark on one definition, written every way the decorators may stand
DECORATED = [
    "import pytest\n@pytest.fixture\n@pytest.mark.skip\ndef f():\n    pass\n",
    "import pytest\n\n@pytest.mark.skip(reason='a (\\n@x')  # (\n\n# between\n\n@pytest.fixture(\n    params=[1, 2],\n)\n"
    "def f(request):\n    pass\n",
    "import pytest\nclass T:\n    @pytest.fixture(params=[\n\"\"\"\n@x\n\"\"\"])\n    @pytest.mark.usefixtures('x')\n    def f(self):\n"
    "        pass\n",
    "import pytest\r\n@pytest.fixture\r\n@pytest.mark.skip\r\ndef f():\r\n    pass\r\n",
    "import pytest\r@pytest.fixture\r@pytest.mark.skip\rdef f():\r    pass\r",
    "import pytest\n\x0c@pytest.fixture\n@pytest \\\n.mark.asyncio\ndef f():\n    pass\n",
    "import pytest\n@pytest.mark.parametrize('a', [1])\ndef test_a(a):\n    pass\n@pytest.fixture\n@pytest.mark.skip\nasync def f():\n"
    "    pass\n",
]


# parametrize calls whose arguments make a site, written every way the arguments may stand
PARAMETRIZED = [
    "import pytest\n@pytest.mark.parametrize('a', (i for i in ')]'))\ndef test_a(a):\n    pass\n",
    "import pytest\n@pytest.mark.parametrize(  # ( [\n    'a,b',  # ,\n    [(1, ')'), (2, '(')],\n    False,\n)\ndef test_a(a, b):\n"
    "    pass\n",
    "import pytest\n@pytest.mark.parametrize(argnames='a', argvalues=map(str, [1]))\ndef test_a(a):\n    pass\n",
    "import pytest\nCASES = iter([1])\n@pytest.mark.parametrize('a', CASES)\ndef test_a(a):\n    pass\n",
    "import pytest\nARGS = ('a', [1])\n@pytest.mark.parametrize(*ARGS)\ndef test_a(a):\n    pass\n",
    "import pytest\n@pytest.mark.parametrize('a', [1] , True, ids=None)\ndef test_a(a):\n    pass\n",
    "import pytest\n@pytest.mark.parametrize ('a', map(int, [1, 2][::-1]))\ndef test_a(a):\n    pass\n",
    "import pytest\n@pytest.mark.parametrize('a', (i for i in \"\"\"\n)\"\"\"))\ndef test_a(a):\n    pass\n",
    "def pytest_generate_tests(metafunc):\n    metafunc.parametrize('a', (x for x in [1]), True)\n",
]


# a test function that yields, the yield written every way it may stand in the test (and fixtures yielding beside it)
YIELDING = [
    "import pytest\n@pytest.fixture\ndef f():\n    yield 1\n\n\ndef test_a(f):\n    if f:\n        yield f\n",
    "class TestA:\n    @staticmethod\n    def f():\n        return 1\n\n    def test_a(self):\n        x = (\n    yield)\n",
    "def test_a(): yield 1\n",
    "def test_a():\n    s = '''\n    def f():\n'''\n    # def g():\n    yield s\n",
    "def test_a():\n\tif True:\n\t\tyield 1\n",
    "def test_b():\n    pass\ndef \\\n  test_a():\n    with x:\n        yield 1\n",
    "async def test_a():\n    yield 1\n",
    # a def nested in the test, ended before its yield: the test holds the yield, not the nearest def above it
    "def test_a():\n    def helper():\n        return 1\n\n    yield helper()\n",
    "class TestA:\n    def test_a(self):\n        async def g():\n            pass\n        # x\n        if g:\n"
    "            def h(): pass\n            yield 1\n",
]


# pytest-asyncio sites at the edges of their rules' needs (a module each, holding a token of the recipe): written every way the words, decorators and
# imports may stand, and those a text may seem to hold but does not (a mark in a string, a name bound to another module)
ASYNC_SITES = {
    "unmarked-async-test": [
        "import pytest\n@pytest.mark.asyncio\n\nasync def test_a():\n    pass\nasync def test_b():\n    pass\n",
        "import pytest\nX = '''\n@pytest.mark.asyncio\n'''\nasync def test_a():\n    pass\n",
        "import pytest\nx = 1 \\\n@pytest.mark.asyncio\nasync def test_a():\n    pass\n",
        "import os as pytest\n@pytest.mark.asyncio\nasync def test_a():\n    pass\n",
        "import pytest\nfrom os import path as pytest\n@pytest.mark.asyncio\nasync def test_a():\n    pass\n",
        '"""\nimport pytest\n"""\n@pytest.mark.asyncio\nasync def test_a():\n    pass\n',
        "import pytest\n@pytest.mark.asyncio(loop_scope='module').with_args\nasync def test_a():\n    pass\n",
        "import pytest\n@pytest.mark.asyncio()()\nasync def test_a():\n    pass\n",
        "import pytest\nclass TestA:\n    @pytest.mark.asyncio\n    async def test_a(self):\n        pass\n\n    async def test_b(self):\n        pass\n",
        "import pytest\n@pytest.mark.asyncio\nasync def test_a():\n    pass\nasync \\\n  def test_b():\n    pass\n",
        "import pytest\ntry:\n    import pytest\nexcept ImportError: import mock as pytest\n@pytest.mark.asyncio\nasync def test_a():\n    pass\n",
        "import pytest\n@pytest.mark.asyncio(x=')')  # (\nasync def test_a():\n    pass\n@pytest.mark.asyncio\n@pytest.mark.skip(reason='''\n)''')\nasync def test_b():\n    pass\nasync def test_c():\n    pass\n",
    ],
    "strict-async-fixture": [
        "import pytest\n@pytest.fixture(\n    autouse=True,\n)\n\n# a comment\n@pytest.mark.foo\nasync def f():\n    pass\n",
        "import pytest\nimport pytest_asyncio\nfrom os import path as pytest_asyncio\n@pytest.fixture\n@pytest_asyncio.fixture\nasync def f():\n    pass\n",
        "from pytest import fixture as fx\n@fx\nasync def f():\n    pass\n",
        "import pytest\n@pytest.fixture(params=['''\n@x\n'''])\nasync def f():\n    pass\n",
        "import pytest\nimport pytest_asyncio\n@pytest_asyncio.fixture\nasync def f():\n    pass\n@pytest.fixture\nasync def g():\n    pass\n",
        "import pytest\n@pytest.yield_fixture\nasync def f():\n    yield\n",
    ],
    "fixture-loop-scope": [
        "import pytest_asyncio as pa\n@pa.fixture(scope='module')\ndef f():\n    pass\n",
        "from pytest_asyncio import fixture\n@fixture(scope='module')\ndef f():\n    pass\n",
        "import pytest\n@pytest.fixture(\n    scope='session')\nasync def f():\n    pass\n",
        "import pytest_asyncio.fixture as f\n@f(scope='module')\ndef g():\n    pass\n",
    ],
    "fixture-loop-scope-dynamic": [
        "import pytest\nS = 'module'\n@pytest.fixture(scope=S)\nasync def f():\n    pass\n",
    ],
    "mark-on-fixture": [
        "from pytest import fixture as f\nfrom pytest.mark import asyncio as a\n@f\n@a\ndef x():\n    pass\n",
        "import pytest\n@pytest.fixture\n@pytest.mark.asyncio\nasync def x():\n    pass\n",
    ],
    "marker-scope": [
        "import pytest\npytestmark = [pytest.mark.asyncio\n    # (\n    (scope='module')]\n",
        "from pytest.mark import asyncio as am\n@am(scope='module')\nasync def test_a():\n    pass\n",
        "import pytest\nclass TestA:\n    pytestmark = pytest.mark.asyncio \\\n        (scope='class')\n",
    ],
    "removed-import": [
        "import pytest_asyncio as pa\npa.plugin.wrap_in_sync\n",
        "import pytest_asyncio\npytest_asyncio.plugin.wrap_in_sync\n",
        "from pytest_asyncio import fixture, event_loop\n",
        "import pytest_asyncio\nx = pytest_asyncio . fixture2\n",
        "import pytest_asyncio.foo\n",
        "import pytest_asyncio\npytest_asyncio.fixture\npytest_asyncio.fixture_x\n",
    ],
    "event-loop-override": [
        "import asyncio\nimport pytest\n@pytest.fixture(name='event_' 'loop')\ndef loop():\n    yield None\n",
        "import asyncio\nimport pytest\n@pytest.fixture(name='\\x65vent_loop')\ndef loop():\n    yield None\n",
        "import asyncio\nimport pytest\n@pytest.fixture(name='event\\x5floop')\ndef loop():\n    yield None\n",
        "import asyncio\nimport pytest\n@pytest.fixture(name=(  # a name\n    'event_'\n    # split\n    \"\"\"loop\"\"\"))\ndef loop():\n    yield None\n",
    ],
    "event-loop-request": [
        "import asyncio\ndef test_a(request):\n    request.getfixturevalue('event' '_loop')\n",
        "import asyncio\nimport pytest\n@pytest.mark.usefixtures('\\N{LATIN SMALL LETTER E}vent_loop')\ndef test_a():\n    pass\n",
    ],
    "event-loop-policy": [
        "import asyncio\nimport pytest\n@pytest.fixture(name='event_loop_\\x70olicy')\ndef policy():\n    pass\n",
    ],
}
# no pytest-asyncio site: modules the needs keep from being parsed for the recipe (as test modules and conftests are
# written: async tests under the asyncio mark, sync fixtures with a scope, async fixtures under pytest_asyncio's)
ASYNC_PLAIN = [
    "import asyncio\n\nimport pytest\n\n\n@pytest.mark.asyncio\nasync def test_a():\n    queue: asyncio.Queue = asyncio.Queue()\n\n"
    "    async def work(n):\n        return n\n\n    assert await work(1) == 1\n\n\n@pytest.fixture(scope='module')\ndef f():\n"
    "    return 1\n\n\nclass TestA:\n    @pytest.mark.asyncio\n    # a comment\n    @pytest.mark.skip(reason='(')\n"
    "    async def test_b(self, f):\n        pass\n",
    "import asyncio\n\nimport pytest\nimport pytest_asyncio\n\n\n@pytest.fixture(scope='session')\ndef f():\n    return 1\n\n\n"
    "@pytest_asyncio.fixture\nasync def g():\n    queue: asyncio.Queue = asyncio.Queue()\n    yield queue\n\n\n"
    "@pytest.mark.skip\n@pytest_asyncio.fixture(autouse=True)\nasync def h():\n    pass\n",
]


@pytest.fixture(scope="module")
def services(generated: Path) -> list[tuple[str, dict[str, str]]]:
    return [
        *_case_services(),
        *_edge_services(),
        ("minimal", {f"svc/tests/test_{n}.py": text for n, text in enumerate(MINIMAL.values())}),
        ("decorated", {f"svc/tests/test_{n}.py": text for n, text in enumerate(DECORATED)}),
        ("parametrized", {f"svc/tests/test_{n}.py": text for n, text in enumerate(PARAMETRIZED)}),
        ("yielding", {f"svc/tests/test_{n}.py": text for n, text in enumerate(YIELDING)}),
        ("async-sites", {f"svc/tests/test_{n}.py": text for n, text in enumerate(_async_sites())}),
        ("async-plain", {f"svc/tests/{name}_{n}.py": text for n, text in enumerate(ASYNC_PLAIN)
                         for name in ("test", "conftest")}),
        *_tree_services(ROOT / "tests" / "projects"),
        *_tree_services(ROOT / "examples" / "homeiq" / "services"),
        *_tree_services(generated / "services"),
    ]


def _async_sites() -> list[str]:
    return [text for texts in ASYNC_SITES.values() for text in texts]


def _scan(files: dict[str, str], held: bool = False) -> scan.FileResult:
    """What the scan's service-level pass finds in a service given as texts (no file is read from disk); `held`:
    told which recipes' tokens each file's bytes hold, as the scan tells it."""
    raw = {rel: text.encode("utf-8", "surrogateescape") for rel, text in files.items() if rel.endswith(".py")}
    sources = {rel: True for rel, data in raw.items() if any(t in data for r in SERVICE_LEVEL for t in r.tokens)}
    tokens = {rel: [r.id for r in SERVICE_LEVEL if any(t in raw[rel] for t in r.tokens)] for rel in sources}
    return scan.scan_service(Path("/nowhere"), list(raw), sources, SERVICE_LEVEL, raw, tokens if held else None)


def _records(result: scan.FileResult) -> dict[str, tuple[frozenset[str], object, object, object]]:
    out = {}
    for rid, sources, sites, reads, kept in result.detection:
        out[rid] = (frozenset(sources or ()), dict(sites), None if reads is None else dict(reads), dict(kept))
    return out


def test_the_needs_change_no_site_finding_or_record(services: list[tuple[str, dict[str, str]]],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    parses: list[str] = []
    real = scan._parse_text

    def counted(rel: str, text: str) -> object:
        parses.append(rel)
        return real(rel, text)

    monkeypatch.setattr(scan, "_parse_text", counted)
    chosen = [_scan(files) for _, files in services]
    fewer = len(parses)
    assert [_scan(files, held=True) for _, files in services] == chosen  # the tokens as the bytes hold them
    monkeypatch.setattr(needs, "CONDITIONS", False)
    parses.clear()
    every = [_scan(files) for _, files in services]
    for (name, _), a, b in zip(services, chosen, every, strict=True):
        assert a.sites == b.sites, f"{name}: with the needs {a.sites}, without {b.sites}"
        assert a.findings == b.findings, name
        assert _records(a) == _records(b), name
    assert sum(len(r.sites) for r in every) > 100  # the corpus holds sites
    assert fewer < len(parses)  # and modules the needs leave unparsed


def _sites_by_rule(recipe: Recipe, files: dict[str, str]) -> Iterator[tuple[str, str]]:
    """(rule id, file) of every site the recipe finds in a service, every module holding a token parsed."""
    sources = []
    for path, text in files.items():
        if path.endswith(".py") and any(t.decode() in text for t in recipe.tokens):
            try:
                sources.append(SourceFile(path, text, parse_tree(text), file_kind(path)))
            except (SyntaxError, ValueError):
                continue
    for site in recipe.detect_service(sources, files):
        yield site.rule, site.file


@pytest.mark.parametrize("rid", ["pytest", "pytest-asyncio"])
def test_every_site_holds_its_rules_needs(rid: str, services: list[tuple[str, dict[str, str]]]) -> None:
    recipe = get(rid)
    declared = {m.rule.id: m.module.NEEDS for m, _ in recipe.hooks("check") if hasattr(m.module, "NEEDS")}
    declines = getattr(recipe, "declines", None)
    checked = 0
    for name, files in services:
        for rule_id, path in _sites_by_rule(recipe, files):
            text = files[path]
            if rule_id in declared:
                assert needs.holds(text, declared[rule_id]), f"{name}: a {rule_id} site in {path} lacks its needs"
                checked += 1
            assert declines is None or not declines(path, text), f"{name}: {rule_id} site in declined {path}"
            assert needs.may_hold(recipe, path, text), f"{name}: {rule_id} site in {path}"
    assert checked > 50 or not declared


def test_the_fewest_words_hold_a_site_of_every_rule_with_needs() -> None:
    recipe = get("pytest")
    files = {f"svc/tests/test_{n}.py": text for n, text in enumerate(MINIMAL.values())}
    found = {(rule_id.split("/", 1)[1], path) for rule_id, path in _sites_by_rule(recipe, files)}
    for n, slug in enumerate(MINIMAL):
        assert (slug, f"svc/tests/test_{n}.py") in found, slug
    assert set(MINIMAL) == {m.rule.slug for m, _ in recipe.hooks("check")}


def test_each_decorated_module_holds_a_mark_on_a_fixture() -> None:
    recipe = get("pytest")
    files = {f"svc/tests/test_{n}.py": text for n, text in enumerate(DECORATED)}
    found = {path for rule_id, path in _sites_by_rule(recipe, files) if "mark-on-fixture" in rule_id}
    assert found == set(files)
    plain = "import pytest\n@pytest.fixture\ndef f():\n    pass\n@pytest.mark.skip\ndef test_a(f):\n    pass\n"
    assert not needs.may_hold(recipe, "svc/tests/test_x.py", plain)  # the mark is on the test: no site, not parsed


def test_each_parametrized_module_holds_a_parametrize_site() -> None:
    recipe = get("pytest")
    files = {f"svc/tests/test_{n}.py": text for n, text in enumerate(PARAMETRIZED)}
    found = {path for rule_id, path in _sites_by_rule(recipe, files) if "parametrize" in rule_id}
    assert found == set(files)
    plain = "import pytest\n@pytest.mark.parametrize(('a', 'b'), [\n    (1, ')'),  # (\n    ('[', 2),\n], ids=str)\ndef test_a(a, b):\n    pass\n"
    assert not needs.may_hold(recipe, "svc/tests/test_x.py", plain)  # a list display: no site, not parsed


def test_pytest_declares_the_needs_of_every_rule_it_checks_with() -> None:
    recipe = get("pytest")
    assert needs.rule_needs(recipe) is not None  # a rule with a check but no NEEDS would make every module parsed
    assert len(needs.rule_needs(recipe) or ()) == sum(1 for _ in recipe.hooks("check"))


def test_a_text_with_a_non_ascii_character_holds_every_need() -> None:
    assert not needs.holds("def test_a():\n    yield 1\n", (("parametrize",),))
    assert needs.holds("def test_ａ():\n    yield 1\n", (("parametrize",),))  # ｐarametrize would be the name
    assert needs.holds("x = 1  # yield the test\n", (("yield",), ("test",)))
    assert not needs.holds("yield 1\n", (("yield",), ("test",)))


def test_a_module_no_recipe_may_find_a_site_in_is_not_parsed_nor_reported_when_broken() -> None:
    broken = "def f(:\n    import asyncio\n"  # pytest-asyncio's token, in production code (declined)
    assert _scan({"svc/src/broken.py": broken}).findings == ()  # as a module holding no token
    [finding] = _scan({"svc/tests/test_broken.py": broken}).findings  # test code: parsed, and reported
    assert finding.rule == "scan/syntax-error" and finding.file == "svc/tests/test_broken.py"


def test_each_async_module_holds_a_site_of_its_rule() -> None:
    recipe = get("pytest-asyncio")
    for slug, texts in ASYNC_SITES.items():
        for text in texts:  # each module a service of its own (the service's event_loop overrides are judged)
            found = {rule_id.split("/", 1)[1] for rule_id, _ in _sites_by_rule(recipe, {"svc/tests/test_a.py": text})}
            # an event_loop override is deleted, deleted for its draining teardown, or left for a human
            assert slug in found or (slug == "event-loop-override" and found & {f"{slug}-custom", f"{slug}-drain"}), text
            assert needs.may_hold(recipe, "svc/tests/test_a.py", text)


@pytest.mark.parametrize("name", ["test_a.py", "conftest.py"])
def test_async_tests_and_fixtures_without_a_site_are_not_parsed(name: str) -> None:
    recipe = get("pytest-asyncio")
    for text in ASYNC_PLAIN:
        assert not list(_sites_by_rule(recipe, {f"svc/tests/{name}": text}))
        assert not needs.may_hold(recipe, f"svc/tests/{name}", text), text
        # the mark taken off an async test (a conftest holds none), `pytest` bound to another module, or pytest_asyncio's
        # fixture taken off an async def: a site, and the module may hold it
        for old, new in (("@pytest.mark.asyncio\n", ""), ("@pytest_asyncio.fixture\n", "@pytest.fixture\n"),
                         ("import pytest\n", "import pytest\nimport os as pytest\n")):
            if old in text and (("async def test" in text and name.startswith("test")) or "fixture" in old):
                changed = text.replace(old, new, 1)
                assert list(_sites_by_rule(recipe, {f"svc/tests/{name}": changed})), (old, new)
                assert needs.may_hold(recipe, f"svc/tests/{name}", changed), (old, new)


def test_a_text_the_decorator_needs_cannot_split_may_hold_every_site() -> None:
    from fleetshift.recipes.pytest_asyncio import needs as pa_needs

    for text in ("async def test_a(:\n    pass\n", "async def test_a():\n    x = 'a\n", "x = ]\nasync def test_a(): pass\n",
                 "import pytest\r@pytest.mark.asyncio\rasync def test_a():\r    pass\r"):
        assert pa_needs.module(text) is None
        assert needs.holds(text, (("async",), (pa_needs.UNMARKED_ASYNC_TEST,)))
    crlf = "import pytest\r\n@pytest.mark.asyncio\r\nasync def test_a():\r\n    pass\r\n"
    assert not needs.holds(crlf, (("async",), (pa_needs.UNMARKED_ASYNC_TEST,)))


def test_pytest_asyncio_declares_the_needs_of_every_rule_it_checks_with() -> None:
    recipe = get("pytest-asyncio")
    assert len(needs.rule_needs(recipe) or ()) == sum(1 for _ in recipe.hooks("check"))


def test_each_yielding_module_holds_a_yielding_test() -> None:
    recipe = get("pytest")
    for text in YIELDING:
        assert "pytest/yield-test" in {rule_id for rule_id, _ in _sites_by_rule(recipe, {"svc/tests/test_a.py": text})}
        assert needs.may_hold(recipe, "svc/tests/test_a.py", text), text
    fixtures = (  # the yields are the fixtures' (and a nested function's): no site, not parsed for pytest
        "import pytest\n\n\ndef test_a(f):\n    def gen():\n        yield 1\n    assert f\n\n\n@pytest.fixture\ndef f():\n"
        "    yield 1\n\n\nclass TestB:\n    @pytest.fixture\n    def g(self):\n        s = '''\ndef test_c():\n    yield\n'''\n"
        "        yield s\n\n    def test_b(self, g):\n        assert g\n"
    )
    assert not list(_sites_by_rule(recipe, {"svc/tests/test_a.py": fixtures}))
    assert not needs.may_hold(recipe, "svc/tests/test_a.py", fixtures)


# strings as the needs read them one character at a time (the patterns before their bodies were matched as runs)
_CHAR_STRINGS = (
    r"""'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|#[^\n]*"""
)
_TRICKY = [
    "x = 'a\\'b' + \"c\\\"d\" # e 'f\n",
    "s = '''one ' two '' three\\''' '''\n'''x''''\n",
    'd = """a "" b \\""" c"""\n"""open',
    "e = 'ends \\\\' + 'back\\\nslash'\nf = 'open\n",
    "g = rb'\\x' f\"{h!r}\" u'''\n''' # '\n@pytest.mark.parametrize('a,b', [(1, ')'), (2, '[')])\ndef test_x(a, b): ...\n",
    "@fixture\n@mark.x(\n  1,  # )\n)\ndef f(): ...\n@deco)\n@tail",
]


@pytest.mark.parametrize("text", _TRICKY)
def test_the_string_patterns_match_what_a_character_at_a_time_matches(text: str) -> None:
    import re

    from fleetshift.recipes.pytest9 import needs as pytest9_needs
    from fleetshift.recipes.pytest_asyncio import needs as pa_needs

    old = re.compile(_CHAR_STRINGS, re.S)
    spans = [m.span() for m in old.finditer(text)]
    assert [m.span() for m in pa_needs._STRINGS.finditer(text)] == spans
    old_token = re.compile(r"[rRbBuUfF]{0,2}(?:" + _CHAR_STRINGS.removesuffix(r"|#[^\n]*") + r")|#[^\n]*|[()\[\]{}]", re.S)
    for start in range(len(text)):
        a, b = old_token.search(text, start), pytest9_needs._TOKEN.search(text, start)
        assert (a and a.span()) == (b and b.span())


# brackets nested deeper than the one-match patterns read, left open, closed by another kind, holding strings and
# comments that hold brackets, a line continued by a backslash
_NESTED = [
    *(f"@d{'(' * n}'a)', \"[\" # ]\n{')' * n}\n" for n in (1, 8, 9, 12)),
    "@d([)]\n", "@d(]\n", "@d((\n", "@d(')\n", "@d[{'''\n)'''}]\n", "@d({1: [2, (3,)]}, \\\n x)\n@e\n",
]



@pytest.mark.parametrize("text", [*_TRICKY, *_NESTED])
def test_a_decorator_line_ends_where_its_tokens_end(text: str) -> None:
    from fleetshift.recipes.pytest9 import needs as pytest9_needs

    def walked(start: int) -> int:  # the end as the tokens tell it, without the plain line's shortcut
        return pytest9_needs._line_end_by_tokens(text, start)

    for start in range(len(text)):
        assert pytest9_needs._line_end(text, start) == walked(start)


@pytest.mark.parametrize("text", [*_TRICKY, *_NESTED])
def test_brackets_read_in_one_match_close_where_their_tokens_close_them(text: str) -> None:
    from fleetshift.recipes.pytest9 import needs as pytest9_needs

    def walked(start: int) -> int:  # the closing bracket as the tokens tell it, one at a time
        return pytest9_needs._close_by_tokens(text, start)

    for start in (i for i, ch in enumerate(text) if ch in "([{"):
        m = pytest9_needs._GROUP.match(text, start)
        if m is not None:
            assert walked(start) in (m.end() - 1, -1)
        assert pytest9_needs._close(text, start) == walked(start)


_CALLS = [
    "@pytest.mark.parametrize(\n    ('a', \"b\"),\n    [\n        pytest.param(1, 2, marks=pytest.mark.skip, id='x'),\n"
    "        ('s', 18),  # )\n    ],\n)\ndef test_a(a, b): ...\n",
    "p('a', {1: [2, (3,)]})\np(\"a\", (i for i in ')'))\np('a', [1] , True)\np('a', [1]) [0]\np(['a'], {'x'},)\n",
    "p('a', [1] # ]\n)\np('a',\n [1])\np('a\\'', [1])\np(r'a', [1])\np('a' 'b', [1])\np('''a''', [1])\np('a', [1)\n",
    "p(argvalues=[1], argnames='a')\np(*ARGS)\np('a', *[1])\np('a', [1]\r\n)\np('a', (1]\np('a', [1], )\np( 'a' , [ ] )\n",
    # two arguments and a keyword
    "p('a', [1], ids=['x'])\np('a', [1],\n    ids = {'x'} ,\n)\np('a', [1], ids=('x',))\np('a', [1], ids='x')\np('a', [1], ids\n=['x'])\n"
    "p('a', [1], ids==['x'])\np('a', [1], ids=['x'] # c\n)\np('a', [1], ids=['x'], x=1)\np('a', [1], ids=[x)\np('a', [1], i_1=\n  [2])\n"
    "p('a', [1], ids=\\\n['x'])\np('a', [1], *, ids=['x'])\np('a', [1], ids=['x']) [0]\np('a', [1], ids=[''])\n",
    "p('a', [1], ids=str)\np('a', [1], ids=m.name,\n)\np('a', [1], ids=str(1))\np('a', [1], ids=m . n)\np('a', [1], ids=x.)\n"
    "p('a', [1], ids=lambda v: v)\np('a', [1], ids=_)\np('a', [1], ids=None)\np('a', [1], ids=1)\np('a', [1], ids=str\n  )\n",
]


@pytest.mark.parametrize("text", [*_CALLS, *_TRICKY, *_NESTED])
def test_call_arguments_read_in_one_match_are_those_their_tokens_tell(text: str) -> None:
    from fleetshift.recipes.pytest9 import needs as pytest9_needs

    for start in (i for i, ch in enumerate(text) if ch == "("):
        two = pytest9_needs._two_arguments(text, start)
        walked = pytest9_needs._arguments_by_tokens(text, start)
        if two is not None:
            assert two == walked
        assert pytest9_needs._arguments(text, start) == walked


def test_the_usual_parametrize_call_is_read_in_one_match() -> None:
    from fleetshift.recipes.pytest9 import needs as pytest9_needs

    text = _CALLS[0]
    two = pytest9_needs._two_arguments(text, text.index("("))
    assert two is not None and two.positional[0] == "('a', \"b\")" and two.values_display()
    for other in ("p('a', [1], True)", "p('a', [1]  # x\n)", "p(argvalues=[1])", "p('a', (1])", "p('a' 'b', [1])"):
        assert pytest9_needs._two_arguments(other, 1) is None
    keyword = pytest9_needs._two_arguments("p('a', [1],\n  ids=['x'],\n)", 1)
    assert keyword == pytest9_needs.Arguments(("'a'", "[1]"), False, {"ids": "['x']"}, frozenset({"1", "ids"}))


def test_a_usual_bracket_is_read_in_one_match_and_a_deeper_one_token_by_token() -> None:
    from fleetshift.recipes.pytest9 import needs as pytest9_needs

    usual = "[('a/b', 1, True), ('c', 2, {'k': [3]})]  # )"
    assert pytest9_needs._GROUP.match(usual).end() == usual.index("  #")  # type: ignore[union-attr]
    deep = "(" * (pytest9_needs._DEPTH + 1) + ")" * (pytest9_needs._DEPTH + 1)
    assert pytest9_needs._GROUP.match(deep) is None
    assert pytest9_needs._close(deep, 0) == len(deep) - 1
    line = "@p('x', [(1, '('), (2, ')')])  # (\ndef test(x): ..."
    assert pytest9_needs._LINE.match(line).end() == line.index("\n")  # type: ignore[union-attr]


def test_rules_needing_the_same_decorator_words_share_one_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    from fleetshift.recipes.pytest9 import needs as pytest9_needs

    asked: list[str] = []
    search = pytest9_needs.DecoratorsNeed.search
    monkeypatch.setattr(pytest9_needs.DecoratorsNeed, "search", lambda self, text: asked.append(text) or search(self, text))
    text = "import pytest\n\n@pytest.fixture\ndef db():\n    return 1\n\ndef test_db(db):\n    assert db\n"
    needs.may_hold(get("pytest"), "tests/test_db.py", text)
    assert asked == [text]


def test_the_word_yield_is_found_where_the_look_behind_pattern_finds_it() -> None:
    import re

    from fleetshift.recipes.pytest_asyncio import needs as pa_needs

    word = re.compile(r"(?<!\w)yield(?!\w)")
    code = "yield x\nyieldy = 1\n_yield(2)\nayield\nyield_ = 3\nx = (yield)\n9yield yield\tyieldyield yield"
    found, at = [], 0
    while (m := pa_needs._yield(code, at)) is not None:
        found.append(m.start())
        at = m.end()
    assert found == [m.start() for m in word.finditer(code)]


def test_a_pattern_tried_only_at_its_first_characters_finds_what_its_search_finds() -> None:
    from fleetshift.recipes.pytest9.rules import removed_in_9_warning as rule

    need = rule.NEEDS[0][0]
    assert isinstance(need, needs.Starting)
    texts = [
        "", "P", "\\", "x = 'PytestRemovedIn9Warning'", "w = 'Pytest' 'RemovedIn9Warning'", "w = '\\x50ytestRemoved'",
        "w = 'Pyt\\\nest'", "w = '\\120'", "w = '\\N{LATIN CAPITAL LETTER P}ytest'", "Python\\n", "P P P 'Py' # c\n'x'",
        "PytestRemovedIn9Warnin", "Pytest\\", "a\\b\\c", "pytestRemovedIn9Warning",
    ]
    for text in texts:
        assert need.search(text) == (rule.MAY_NAME.search(text) is not None), text


def _defs_walked_up(code: str) -> list[tuple[bool, str, str]]:
    """Each def of a module's code and its decorators, as a walk up the lines above the def finds them (blank lines
    and comments passed over, any other line ending the walk)."""
    import re

    found = []
    for m in re.finditer(r"^([ \t\f]*)(async[ \t\f]+)?def[ \t\f]+(\w+)", code, re.M):
        decorators, end = [], m.start() - 1
        while end > 0:
            above = code.rfind("\n", 0, end) + 1
            line = code[above:end].strip(" \t\f")
            if line and line != "\x03":
                if line[0] != "@":
                    break
                decorators.append(code[above:end])
            end = above - 1
        found.append((m.group(2) is not None, m.group(3), "\n".join(reversed(decorators))))
    return found


def _brackets_by_depth(text: str) -> str | None:
    """The logical lines of a text as the split joins them, each depth of brackets at a time by regular expressions
    alone (what `pytest_asyncio.needs._split` finds faster); None where it cannot split the text."""
    import re

    from fleetshift.recipes.pytest_asyncio import needs as pa_needs

    text = text.replace("\r\n", "\n")
    if not text.isascii() or "\r" in text or "\x03" in text:
        return None
    code = pa_needs._STRINGS.sub("\x03", text)
    if "'" in code or '"' in code:
        return None
    code = code.replace("\\\n", " ")
    marks = code.translate(pa_needs._MARKS)
    while True:
        inner = pa_needs._SPANNING.sub(pa_needs._joined, re.sub(r"\(\)|\[\]|\{\}", "", marks))
        if inner == marks:
            break
        marks = inner
    if re.search(r"[()\[\]{}]", marks):
        return None
    return pa_needs._joined_lines(code, marks) if "j" in marks else code


def test_the_split_and_its_defs_are_those_read_a_depth_and_a_line_at_a_time() -> None:
    import random

    from fleetshift.recipes.pytest_asyncio import needs as pa_needs

    pieces = ["(", ")", "[", "]", "{", "}", "\n", "\n", "x", " ", "\t", "\f", "@d", "@", "def f", "async def t",
              "  def g", "de", "f", "#c", "'s'", "\\\n", "\n@fixture(\n", "):\n"]
    rnd = random.Random(13)
    texts = [*_TRICKY, *_NESTED, *DECORATED, *PARAMETRIZED, *YIELDING]
    texts += ["".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 40))) for _ in range(3000)]
    for text in texts:
        module = pa_needs._split(text)
        code = _brackets_by_depth(text)
        assert (module and module.code) == code, text
        if module is not None:
            assert [(d.is_async, d.name, d.decorated) for d in module.defs] == _defs_walked_up(module.code), text


def test_words_starting_alike_are_looked_for_once_in_a_text_without_their_start() -> None:
    asked: list[object] = []

    class Counted(str):
        def __contains__(self, word: object) -> bool:
            asked.append(word)
            return super().__contains__(word)  # type: ignore[operator]

    pytest9 = get("pytest")
    hooks = {w for every in needs.rule_needs(pytest9) or () for group in every for w in group
             if isinstance(w, str) and "collect" in w}
    assert len(hooks) >= 3
    assert not needs.may_hold(pytest9, "tests/conftest.py", Counted("import os\n\ndef test_a():\n    pass\n"))
    assert "pytest_" in asked and not hooks & set(asked)
    for hook in sorted(hooks):
        asked.clear()
        text = Counted(f"def {hook}(path):\n    return path\n")
        assert needs.may_hold(pytest9, "tests/conftest.py", text)
        assert hook in asked
