"""pytest 8 -> 9 recipe: rewrite cases, no-op twins, findings, detection, config, and the chain with pytest-asyncio."""

from __future__ import annotations

import pytest
from recipe_harness import Case, _ctx, assert_noop, detect, rewrite_files, rules_of

from fleetshift.model import Action, Severity
from fleetshift.recipes import all_recipes, get

R = "pytest"
CONFTEST = "svc/conftest.py"


def rid(slug: str) -> str:
    return f"pytest/{slug}"


def _path(source: str) -> str:
    return "svc/tests/test_x.py" if "def test_" in source else CONFTEST


def _rewrite(rule: str, name: str, before: str, after: str) -> Case:
    return Case(rule, before, after, path=_path(before), name=name)


def _noop(rule: str, name: str, source: str) -> Case:
    return Case(rule, source, path=_path(source), name=name)


def _finding(name: str, source: str, rule: str) -> Case:
    return Case(rule, source, findings=(rule,), path=_path(source), name=name)


def _config(rule: str, path: str, before: str, after: str | None = None, *, findings: bool = False) -> Case:
    return Case(
        rule, before, after, findings=(rule,) if findings else (), path=path, name=path.rsplit("/", 1)[1]
    )


REWRITES = [
    _rewrite(
        "hook-path-args",
        "PT-5 path -> collection_path with .basename/.ext",
        """\
        def pytest_ignore_collect(path, config):
            return path.basename.startswith("skip_") or path.ext == ".txt"
        """,
        """\
        def pytest_ignore_collect(collection_path, config):
            return collection_path.name.startswith("skip_") or collection_path.suffix == ".txt"
        """,
    ),
    _rewrite(
        "hook-path-args",
        "PT-5 + PT-6 makemodule: module_path and from_parent(path=)",
        """\
        def pytest_pycollect_makemodule(path, parent):
            if path.purebasename == "x" and path.isfile():
                return MyModule.from_parent(parent, fspath=path)
        """,
        """\
        def pytest_pycollect_makemodule(module_path, parent):
            if module_path.stem == "x" and module_path.is_file():
                return MyModule.from_parent(parent, path=module_path)
        """,
    ),
    _rewrite(
        "hook-path-args",
        "PT-5 startdir -> start_path with .strpath/.dirname, str() and f-strings",
        """\
        def pytest_report_header(config, startdir):
            return [f"root: {startdir}", startdir.strpath, startdir.dirname, str(startdir)]
        """,
        """\
        def pytest_report_header(config, start_path):
            return [f"root: {start_path}", str(start_path), str(start_path.parent), str(start_path)]
        """,
    ),
    _rewrite(
        "hook-path-args",
        "PT-5 both names declared: the py.path one is dropped",
        """\
        def pytest_collect_file(file_path, path, parent):
            return None
        """,
        """\
        def pytest_collect_file(file_path, parent):
            return None
        """,
    ),
    _rewrite(
        "from-parent-fspath",
        "PT-6 fspath= -> path=pathlib.Path(...)",
        """\
        def make(parent, name):
            return Item.from_parent(parent, name=name, fspath=parent.fspath)
        """,
        """\
        import pathlib

        def make(parent, name):
            return Item.from_parent(parent, name=name, path=pathlib.Path(parent.fspath))
        """,
    ),
    _rewrite(
        "removed-in-9-warning",
        "PT-8 PytestRemovedIn9Warning filter marks are deleted",
        """\
        import pytest

        pytestmark = [pytest.mark.filterwarnings("ignore::pytest.PytestRemovedIn9Warning"), pytest.mark.slow]


        @pytest.mark.filterwarnings("ignore::pytest.PytestRemovedIn9Warning")
        def test_a():
            pass
        """,
        """\
        import pytest

        pytestmark = [pytest.mark.slow]


        def test_a():
            pass
        """,
    ),
    _rewrite(
        "mark-on-fixture",
        "PT-3 asyncio mark on a fixture is deleted",
        """\
        import pytest


        @pytest.fixture
        @pytest.mark.asyncio
        async def f():
            return 1
        """,
        """\
        import pytest


        @pytest.fixture
        async def f():
            return 1
        """,
    ),
    _rewrite(
        "fixture-instance-method",
        "PT-13 class-scoped instance-method fixture -> classmethod below the decorator",
        """\
        import pytest


        class TestA:
            base = 3

            @pytest.fixture(scope="class")
            def res(self):
                return self.base + 1

            @pytest.fixture(scope="module")
            def other(self):
                return 2

            def test_a(self, res):
                assert res == 4
        """,
        """\
        import pytest


        class TestA:
            base = 3

            @pytest.fixture(scope="class")
            @classmethod
            def res(cls):
                return cls.base + 1

            @pytest.fixture(scope="module")
            @classmethod
            def other(cls):
                return 2

            def test_a(self, res):
                assert res == 4
        """,
    ),
    _rewrite(
        "fixture-instance-method",
        "PT-13 classmethod above the fixture decorator moves below (9.2 warns)",
        """\
        import pytest


        class TestA:
            @classmethod
            @pytest.fixture(scope="class")
            def res(cls):
                return 1
        """,
        """\
        import pytest


        class TestA:
            @pytest.fixture(scope="class")
            @classmethod
            def res(cls):
                return 1
        """,
    ),
    _rewrite(
        "yield-fixture",
        "PT-14 yield_fixture -> fixture (attribute and from-import)",
        """\
        import pytest
        from pytest import yield_fixture


        @pytest.yield_fixture
        def a():
            yield 1


        @yield_fixture(scope="module")
        def b():
            yield 2
        """,
        """\
        import pytest
        from pytest import fixture


        @pytest.fixture
        def a():
            yield 1


        @fixture(scope="module")
        def b():
            yield 2
        """,
    ),
    _rewrite(
        "parametrize-keywords",
        "PT-16 positional indirect/ids/scope -> keywords; PT-13 generator argvalues -> list",
        """\
        import pytest


        @pytest.mark.parametrize("x", [1, 2], False, ["a", "b"], "module")
        def test_p(x):
            pass


        @pytest.mark.parametrize("y", (i for i in range(3)))
        def test_g(y):
            pass


        def pytest_generate_tests(metafunc):
            metafunc.parametrize("z", [1], True)
        """,
        """\
        import pytest


        @pytest.mark.parametrize("x", [1, 2], indirect=False, ids=["a", "b"], scope="module")
        def test_p(x):
            pass


        @pytest.mark.parametrize("y", [i for i in range(3)])
        def test_g(y):
            pass


        def pytest_generate_tests(metafunc):
            metafunc.parametrize("z", [1], indirect=True)
        """,
    ),
]


NOOPS = [
    _noop(
        "hook-path-args",
        "PT-5 new hook argument names",
        """\
        def pytest_ignore_collect(collection_path, config):
            return collection_path.name.startswith("skip_")


        def pytest_collect_file(file_path, parent):
            return None


        def some_helper(path):
            return path.basename
        """,
    ),
    _noop(
        "from-parent-fspath",
        "PT-6 from_parent(path=)",
        """\
        def make(parent, p):
            return Item.from_parent(parent, path=p)
        """,
    ),
    _noop(
        "parametrize-keywords",
        "PT-16 keywords already; two positional arguments",
        """\
        import pytest


        @pytest.mark.parametrize("x", [1, 2], ids=["a", "b"])
        def test_p(x):
            pass
        """,
    ),
    _noop(
        "fixture-instance-method",
        "PT-13 function-scoped method fixtures and module-level fixtures stay",
        """\
        import pytest


        @pytest.fixture(scope="session")
        def s():
            return 1


        class TestA:
            @pytest.fixture
            def f(self):
                return self

            @pytest.fixture(scope="class")
            @classmethod
            def c(cls):
                return 1
        """,
    ),
    _noop(
        "importorskip-exc-type",
        "PT-7 importorskip with exc_type",
        """\
        import pytest

        np = pytest.importorskip("numpy", exc_type=ImportError)
        """,
    ),
    _noop(
        "yield-fixture",
        "PT-14 pytest.fixture and other marks",
        """\
        import pytest


        @pytest.fixture
        def a():
            yield 1


        @pytest.mark.filterwarnings("ignore::DeprecationWarning")
        def test_a(a):
            pass
        """,
    ),
]


FINDINGS = [
    _finding(
        "PT-5 .check()/.join() on a py.path argument",
        """\
        def pytest_collect_file(parent, path):
            if path.check(file=1) and path.join("x").exists():
                return None
        """,
        "hook-path-args-human",
    ),
    _finding(
        "PT-5 py.path compared as a value",
        """\
        def pytest_ignore_collect(path, config):
            return path in IGNORED
        """,
        "hook-path-args-human",
    ),
    _finding(
        "PT-7 importorskip without exc_type",
        """\
        import pytest

        np = pytest.importorskip("numpy")
        """,
        "importorskip-exc-type",
    ),
    _finding(
        "PT-8 PytestRemovedIn9Warning in code",
        """\
        import warnings

        import pytest

        warnings.simplefilter("ignore", pytest.PytestRemovedIn9Warning)
        """,
        "removed-in-9-warning-code",
    ),
    _finding(
        "PT-3 usefixtures on a fixture",
        """\
        import pytest


        @pytest.mark.usefixtures("db")
        @pytest.fixture
        def client():
            return 1
        """,
        "mark-on-fixture-human",
    ),
    _finding(
        "PT-13 instance-method fixture writing to self",
        """\
        import pytest


        class TestA:
            @pytest.fixture(scope="class")
            def res(self):
                self.value = 1
                return self.helper()

            def helper(self):
                return 1
        """,
        "fixture-instance-method-human",
    ),
    _finding(
        "yield test",
        """\
        def test_gen():
            for i in range(3):
                yield check, i
        """,
        "yield-test",
    ),
    _finding(
        "config.inicfg",
        """\
        def pytest_configure(config):
            value = config.inicfg.get("x")
        """,
        "deprecated-9-1",
    ),
]


@pytest.mark.parametrize("case", FINDINGS, ids=[c.name for c in FINDINGS])
def test_finding_carries_line_link_and_severity(case: Case) -> None:
    findings = assert_noop(R, case.before, path=case.path)
    hits = [f for f in findings if f.rule == rid(case.rule)]
    assert hits, findings
    assert all(f.line > 0 and f.link and f.severity is Severity.HUMAN for f in hits)


# ---- config ------------------------------------------------------------------------------------

CONFIG_REWRITES = [
    _config(
        "strict-flag",
        "svc/pytest.ini",
        "[pytest]\naddopts = -ra --strict\n    -W ignore::pytest.PytestRemovedIn9Warning\nfilterwarnings =\n"
        "    error\n    # why\n    ignore::pytest.PytestRemovedIn9Warning\n",
        "[pytest]\naddopts = -ra --strict-markers\nfilterwarnings =\n    error\n    # why\n",
    ),
    _config(
        "removed-in-9-warning",
        "svc/setup.cfg",
        "[tool:pytest]\nfilterwarnings = ignore::pytest.PytestRemovedIn9Warning\naddopts = --strict\n",
        "[tool:pytest]\naddopts = --strict-markers\n",
    ),
    _config(
        "strict-flag",
        "svc/tox.ini",
        "[tox]\nenvlist = py311\n\n[testenv]\ncommands = pytest --strict {posargs}\n\n[pytest]\naddopts = --strict\n",
        "[tox]\nenvlist = py311\n\n[testenv]\ncommands = pytest --strict-markers {posargs}\n\n[pytest]\n"
        "addopts = --strict-markers\n",
    ),
    _config(
        "strict-flag",
        "svc/pyproject.toml",
        '[tool.pytest.ini_options]\naddopts = "--strict -q"\nfilterwarnings = [\n    "error",\n'
        '    "ignore::pytest.PytestRemovedIn9Warning",  # 9.0 stopgap\n]\n',
        '[tool.pytest.ini_options]\naddopts = "--strict-markers -q"\nfilterwarnings = [\n    "error",\n]\n',
    ),
    _config(
        "removed-in-9-warning",
        "svc/pytest.toml",
        '[pytest]\naddopts = ["--strict", "-q"]\nfilterwarnings = ["ignore::pytest.PytestRemovedIn9Warning"]\n',
        '[pytest]\naddopts = ["--strict-markers", "-q"]\n',
    ),
]


CONFIG_NOOPS = [
    _config(
        "strict-flag",
        "svc/pytest.ini",
        "[pytest]\naddopts = --strict-markers --strict-config\nfilterwarnings = error\n",
    ),
    _config(
        "removed-in-9-warning",
        "svc/pyproject.toml",
        '[tool.pytest.ini_options]\naddopts = ["--strict-markers"]\n',
    ),
    _config("strict-flag", "svc/tox.ini", "[testenv]\ncommands = pytest --strict-markers\n"),
    _config("toml-tables", "svc/pyproject.toml", '[tool.pytest.ini_options]\naddopts = "-ra -q"\n'),
    _config("deprecated-9-1", "svc/pytest.ini", "[pytest]\naddopts = -ra -p no:cacheprovider\n"),
]

CONFIG_FINDINGS = [
    _config(
        "toml-tables",
        "svc/pyproject.toml",
        '[tool.pytest]\nminversion = "9.0"\n\n[tool.pytest.ini_options]\nx = 1\n',
        findings=True,
    ),
    _config("toml-tables", "svc/pyproject.toml", '[tool.pytest]\naddopts = "-ra -q"\n', findings=True),
    _config("deprecated-9-1", "svc/pytest.ini", "[pytest]\naddopts = --pastebin=all\n", findings=True),
]


@pytest.mark.parametrize("case", CONFIG_FINDINGS, ids=[c.rule for c in CONFIG_FINDINGS])
def test_config_finding_carries_line_link_and_severity(case: Case) -> None:
    new, findings = rewrite_files(R, {case.path: case.before})
    assert new[case.path] == case.before
    hits = [f for f in findings if f.rule == rid(case.rule)]
    assert hits and all(f.severity is Severity.HUMAN and f.line > 0 and f.link for f in hits), findings


# The rest of each rule's positive case and no-op twin: rules judged across a service's files, and twins the
# tables above do not hold.
DOCTEST_TEST = (
    "import pytest\n\n\n@pytest.fixture(scope='module', autouse=True)\ndef setup():\n    yield\n\n\n"
    "def test_a():\n    pass\n"
)
OTHER_CASES = [
    _rewrite(
        "parametrize-generator",
        "generator argvalues -> list",
        'import pytest\n\n\n@pytest.mark.parametrize("x", (i for i in range(3)))\ndef test_a(x):\n    pass\n',
        'import pytest\n\n\n@pytest.mark.parametrize("x", [i for i in range(3)])\ndef test_a(x):\n    pass\n',
    ),
    _noop(
        "parametrize-generator",
        "list argvalues",
        'import pytest\n\n\n@pytest.mark.parametrize("x", [1, 2])\ndef test_a(x):\n    pass\n',
    ),
    _rewrite(
        "parametrize-generator",
        "local generator helper, module-level generator variable, itertools and argvalues=",
        """\
        import itertools

        import pytest


        def cases():
            for i in range(3):
                yield i, i * 2


        PAIRS = (p for p in cases())


        @pytest.mark.parametrize(("a", "b"), cases(), ids=str)
        def test_local(a, b):
            assert b == 2 * a


        @pytest.mark.parametrize(("a", "b"), PAIRS)
        def test_var(a, b):
            assert b == 2 * a


        @pytest.mark.parametrize(argnames="x,y", argvalues=itertools.product([1], [2]))
        def test_product(x, y):
            assert x < y
        """,
        """\
        import itertools

        import pytest


        def cases():
            for i in range(3):
                yield i, i * 2


        PAIRS = (p for p in cases())


        @pytest.mark.parametrize(("a", "b"), list(cases()), ids=str)
        def test_local(a, b):
            assert b == 2 * a


        @pytest.mark.parametrize(("a", "b"), list(PAIRS))
        def test_var(a, b):
            assert b == 2 * a


        @pytest.mark.parametrize(argnames="x,y", argvalues=list(itertools.product([1], [2])))
        def test_product(x, y):
            assert x < y
        """,
    ),
    Case(
        "parametrize-generator",
        """\
        import pytest
        from helpers import payloads as load

        from tests import helpers

        from .conftest import ids_of, ROWS


        @pytest.mark.parametrize("payload", load())
        @pytest.mark.parametrize("n", helpers.numbers(), ids=str)
        def test_api(payload, n):
            assert payload and n


        @pytest.mark.parametrize("row", ROWS)
        def test_rows(row):
            assert row


        def pytest_generate_tests(metafunc):
            metafunc.parametrize("i", ids_of(2))
        """,
        """\
        import pytest
        from helpers import payloads as load

        from tests import helpers

        from .conftest import ids_of, ROWS


        @pytest.mark.parametrize("payload", list(load()))
        @pytest.mark.parametrize("n", list(helpers.numbers()), ids=str)
        def test_api(payload, n):
            assert payload and n


        @pytest.mark.parametrize("row", list(ROWS))
        def test_rows(row):
            assert row


        def pytest_generate_tests(metafunc):
            metafunc.parametrize("i", list(ids_of(2)))
        """,
        path="svc/tests/test_api.py",
        name="helpers imported from the service's own modules (annotated, yielding, a module, a variable)",
        extra_files={
            "svc/tests/helpers.py": (
                "from collections.abc import Iterator\nfrom typing import Generator\n\n\n"
                "def payloads() -> Iterator[dict]:\n    return iter([{'a': 1}])\n\n\n"
                "def numbers() -> 'Generator[int, None, None]':\n    return (n for n in range(2))\n"
            ),
            "svc/tests/conftest.py": "def ids_of(n):\n    yield from range(n)\n\n\nROWS = map(str, range(2))\n",
        },
    ),
    Case(
        "parametrize-generator",
        """\
        import pytest
        from helpers import rows


        def cases():
            return [(1, 2)]


        def gen():
            yield 1


        def map(*values):
            return list(values)


        VALUES = [1, 2]


        @pytest.mark.parametrize(("a", "b"), cases())
        def test_a(a, b):
            assert a < b


        @pytest.mark.parametrize("x", list(gen()), ids=str)
        def test_b(x):
            assert x


        @pytest.mark.parametrize("x", VALUES)
        def test_c(x):
            assert x


        @pytest.mark.parametrize("x", rows())
        def test_d(x):
            assert x


        @pytest.mark.parametrize("x", map(1, 2))
        def test_e(x):
            assert x
        """,
        path="svc/tests/test_x.py",
        name="list helpers, an already wrapped generator, a list variable, a local map",
        extra_files={"svc/tests/helpers.py": "def rows():\n    return [1, 2]\n"},
    ),
    Case(
        "parametrize-generator",
        'import pytest\n\n\n@pytest.mark.parametrize("x", (i for i in range(3)))\ndef test_a(x):\n    pass\n',
        path="svc/tests/test_x.py",
        name="a target that stays on pytest 9.0",
        targets={"pytest": ">=9.0.2,<9.1"},
    ),
    _noop(
        "hook-path-args-human",
        "pathlib argument",
        "def pytest_collect_file(parent, file_path):\n    if file_path.exists():\n        return None\n",
    ),
    _noop(
        "removed-in-9-warning-code",
        "other warning",
        'import warnings\n\nimport pytest\n\nwarnings.simplefilter("ignore", DeprecationWarning)\n',
    ),
    _noop(
        "removed-in-9-warning",
        "other filter mark",
        'import pytest\n\n\n@pytest.mark.filterwarnings("ignore::DeprecationWarning")\ndef test_a():\n    pass\n',
    ),
    _noop(
        "mark-on-fixture",
        "asyncio mark on a test",
        "import pytest\n\n\n@pytest.mark.asyncio\nasync def test_a():\n    pass\n",
    ),
    _noop(
        "mark-on-fixture-human",
        "usefixtures on a test",
        'import pytest\n\n\n@pytest.mark.usefixtures("db")\ndef test_a():\n    pass\n',
    ),
    _noop(
        "fixture-instance-method-human",
        "function-scoped fixture writing to self",
        "import pytest\n\n\nclass TestA:\n    @pytest.fixture\n    def res(self):\n        self.value = 1\n        return 1\n",
    ),
    _noop("yield-test", "plain test", "def test_gen():\n    for i in range(3):\n        assert i >= 0\n"),
    _noop(
        "deprecated-9-1", "config.getini", 'def pytest_configure(config):\n    value = config.getini("x")\n'
    ),
    Case(
        "inactive-config",
        "[tool:pytest]\naddopts = -q\n",
        findings=("inactive-config",),
        path="svc/setup.cfg",
        extra_files={"svc/pytest.ini": "[pytest]\naddopts = -ra\n"},
    ),
    Case("inactive-config", "[tool:pytest]\naddopts = -q\n", path="svc/setup.cfg"),
    Case(
        "doctest-autouse",
        DOCTEST_TEST,
        findings=("doctest-autouse",),
        path="svc/tests/test_a.py",
        extra_files={"svc/pytest.ini": "[pytest]\naddopts = --doctest-modules\n"},
    ),
    Case(
        "doctest-autouse",
        DOCTEST_TEST,
        path="svc/tests/test_a.py",
        extra_files={"svc/pytest.ini": "[pytest]\naddopts = -ra\n"},
    ),
]

# Every rule's cases keyed by rule, run and checked for a positive and a no-op case by test_rule_cases.py.
CASES = [*REWRITES, *NOOPS, *FINDINGS, *CONFIG_REWRITES, *CONFIG_NOOPS, *CONFIG_FINDINGS, *OTHER_CASES]
JUDGED_ELSEWHERE = (
    "python-version",  # the Python support matrix is judged once for every recipe, with the pins (_floors)
    "collect-duplicates",  # notes `recipes guide` lists for a human; nothing in code or config shows them
    "ci-mode",
    "exit-codes",
)


@pytest.mark.parametrize("floor", ["3.8", "3.10"])
def test_the_recipe_does_not_judge_pythons(floor: str) -> None:
    """The Python support matrix is judged once for every recipe (fleetshift.recipes._floors, against what
    uv says the target needs), never by a recipe's own config checks."""
    files = {
        "svc/pyproject.toml": f'[project]\nrequires-python = ">={floor}"\nclassifiers = ["Programming Language :: Python :: {floor}"]\n',
        "svc/tox.ini": f"[tox]\nenvlist = py{floor.replace('.', '')}, py311\n",
    }
    _, findings = rewrite_files(R, files)
    assert rid("python-version") not in rules_of(findings)
    for path, text in files.items():
        assert rid("python-version") not in rules_of(detect(R, text, path))


def test_inactive_config_is_flagged() -> None:
    files = {"svc/pytest.ini": "[pytest]\naddopts = -ra\n", "svc/setup.cfg": "[tool:pytest]\naddopts = -q\n"}
    _, findings = rewrite_files(R, files)
    assert [f.file for f in findings if f.rule == rid("inactive-config")] == ["svc/setup.cfg"]


def test_doctest_autouse_is_flagged() -> None:
    test = (
        "import pytest\n\n\n@pytest.fixture(scope='module', autouse=True)\ndef setup():\n    yield\n\n\n"
        "def test_a():\n    pass\n"
    )
    files = {"svc/pytest.ini": "[pytest]\naddopts = --doctest-modules\n", "svc/tests/test_a.py": test}
    _, findings = rewrite_files(R, files)
    assert any(f.rule == rid("doctest-autouse") and f.line == 5 for f in findings)


# ---- detection ---------------------------------------------------------------------------------

DETECT = [
    ("def pytest_collect_file(parent, path):\n    pass\n", "hook-path-args", Action.AUTO),
    ("def pytest_report_header(config, startdir):\n    pass\n", "hook-path-args", Action.AUTO),
    ("import pytest\nx = pytest.importorskip('numpy')\n", "importorskip-exc-type", Action.HUMAN),
    ("def f(p):\n    return Item.from_parent(p, fspath=p.fspath)\n", "from-parent-fspath", Action.AUTO),
    ("import pytest\n@pytest.yield_fixture\ndef f():\n    yield\n", "yield-fixture", Action.AUTO),
    (
        "import pytest\n@pytest.mark.parametrize('x', [1], True)\ndef test_a(x):\n    pass\n",
        "parametrize-keywords",
        Action.AUTO,
    ),
    # what the run only reports is a human site: *args, a keyword given twice, fspath= beside path=
    (
        "import pytest\nA = ('x', [1])\n@pytest.mark.parametrize(*A, True)\ndef test_a(x):\n    pass\n",
        "parametrize-keywords",
        Action.HUMAN,
    ),
    (
        "import pytest\n@pytest.mark.parametrize('x', [1], True, indirect=False)\ndef test_a(x):\n    pass\n",
        "parametrize-keywords",
        Action.HUMAN,
    ),
    ("def f(p):\n    return Item.from_parent(p, fspath=p.fspath, path=p.path)\n", "from-parent-fspath", Action.HUMAN),
    (
        "import pytest\nclass TestA:\n    @pytest.fixture(scope='class')\n    def f(self):\n        pass\n",
        "fixture-instance-method",
        Action.AUTO,
    ),
    (
        "import pytest\n@pytest.mark.usefixtures('a')\n@pytest.fixture\ndef f():\n    pass\n",
        "mark-on-fixture-human",
        Action.HUMAN,
    ),
    (
        "import pytest\n@pytest.mark.filterwarnings('ignore::pytest.PytestRemovedIn9Warning')\ndef test_a():\n    pass\n",
        "removed-in-9-warning",
        Action.AUTO,
    ),
]


@pytest.mark.parametrize(("source", "rule", "action"), DETECT, ids=[c[1] for c in DETECT])
def test_detect(source: str, rule: str, action: Action) -> None:
    sites = [s for s in detect(R, source) if s.rule == rid(rule)]
    assert sites and all(s.action is action and s.line > 0 for s in sites)


@pytest.mark.parametrize(
    "source",
    [
        "import pytest\nA = ('x', [1])\n@pytest.mark.parametrize(*A, True)\ndef test_a(x):\n    pass\n",
        "import pytest\n@pytest.mark.parametrize('x', [1], True, indirect=False)\ndef test_a(x):\n    pass\n",
        "import pytest\n@pytest.mark.parametrize('x', [1], **OPTS)\ndef test_a(x):\n    pass\n",
        "import pytest\n@pytest.mark.parametrize('x', (i for i in range(2)), **OPTS)\ndef test_a(x):\n    pass\n",
        "def f(p):\n    return Item.from_parent(p, fspath=p.fspath, path=p.path)\n",
    ],
    ids=["star-args", "keyword-twice", "double-star", "generator-double-star", "fspath-and-path"],
)
def test_check_labels_no_site_auto_that_the_run_leaves(source: str) -> None:
    """Every [auto] site of check is one the run rewrites; every site the run only reports is [human] in check."""
    path = "svc/tests/test_x.py"
    new, findings = rewrite_files(R, {path: source})
    changed = new.get(path, source) != source
    sites = [s for s in detect(R, source, path) if s.action is not Action.INFO]
    assert all(s.action is Action.HUMAN for s in sites) or changed
    assert {(s.rule, s.line) for s in sites if s.action is Action.HUMAN} <= {(f.rule, f.line) for f in findings}
    assert not changed


def test_check_labels_a_hook_as_the_run_treats_it() -> None:
    """A hook whose py.path argument has no pathlib twin is a human site (the run leaves it and says why);
    one the run renames is an automatic site."""
    human = "def pytest_collect_file(parent, path):\n    return path.join('x')\n"
    auto = "def pytest_collect_file(parent, path):\n    return path.basename\n"
    assert {(s.rule, s.action) for s in detect(R, human, CONFTEST)} == {(rid("hook-path-args-human"), Action.HUMAN)}
    assert {(s.rule, s.action) for s in detect(R, auto, CONFTEST)} == {(rid("hook-path-args"), Action.AUTO)}
    _, findings = rewrite_files(R, {CONFTEST: human})
    assert [(f.rule, f.line) for f in findings] == [(rid("hook-path-args-human"), 1)]
    assert "because of .join" in findings[0].message


def test_check_labels_a_fixture_method_as_the_run_treats_it() -> None:
    """A wider-scoped fixture method reading only class attributes is an automatic site, one writing to self a
    human site (the run leaves it), and a @classmethod above the fixture decorator an automatic site (moved)."""
    src = """\
    import pytest


    class TestA:
        base = 1

        @pytest.fixture(scope="class")
        def ok(self):
            return self.base

        @pytest.fixture(scope="class")
        def kept(self):
            self.value = 1
            return 1

        @classmethod
        @pytest.fixture(scope="module")
        def moved(cls):
            return 1
    """
    sites = {(s.line, s.rule, s.action) for s in detect(R, src, CONFTEST)}
    assert sites == {
        (8, rid("fixture-instance-method"), Action.AUTO),
        (12, rid("fixture-instance-method-human"), Action.HUMAN),
        (18, rid("fixture-instance-method"), Action.AUTO),
    }
    new, findings = rewrite_files(R, {CONFTEST: src})
    assert [(f.rule, f.line) for f in findings] == [(rid("fixture-instance-method-human"), 12)]
    assert "@pytest.fixture(scope=\"module\")\n    @classmethod\n    def moved(cls)" in new[CONFTEST]
    assert "@classmethod\n    def ok(cls):\n        return cls.base" in new[CONFTEST]
    assert [s.rule for s in detect(R, new[CONFTEST], CONFTEST)] == [rid("fixture-instance-method-human")]


def test_detect_nothing_on_migrated_code() -> None:
    src = """\
    import pytest


    def pytest_collect_file(file_path, parent):
        return Item.from_parent(parent, path=file_path)


    class TestA:
        @pytest.fixture(scope="class")
        @classmethod
        def f(cls):
            return 1


    @pytest.mark.parametrize("x", [1], indirect=True)
    def test_a(x):
        pytest.importorskip("numpy", exc_type=ImportError)
    """
    assert detect(R, src) == []


@pytest.mark.parametrize(
    ("path", "text", "rule"),
    [
        ("svc/pytest.ini", "[pytest]\naddopts = --strict\n", "strict-flag"),
        (
            "svc/pytest.ini",
            "[pytest]\nfilterwarnings =\n    ignore::pytest.PytestRemovedIn9Warning\n",
            "removed-in-9-warning",
        ),
    ],
)
def test_detect_config(path: str, text: str, rule: str) -> None:
    assert rid(rule) in rules_of(detect(R, text, path))


# ---- data, pins, and the chain with pytest-asyncio ----------------------------------------------


def test_recipe_data_and_order() -> None:
    r = get(R)
    assert (r.package, r.migrates_from, r.migrates_to) == ("pytest", "<9", ">=9.0.2,<10")
    ids = [x.id for x in all_recipes()]
    assert ids.index("pytest-asyncio") < ids.index("pytest")
    assert all(rule.link for rule in r.rules)


@pytest.mark.parametrize(
    ("pa_pin", "bumped"), [("==0.23.8", True), ("<1", True), ("==1.5.0", False), (">=1.3", False)]
)
def test_pin_changes(pa_pin: str, bumped: bool) -> None:
    changes = get(R).pin_changes(_ctx({}, None, False), {"pytest": "==8.3.5", "pytest-asyncio": pa_pin})
    assert changes[0].new_spec == ">=9.0.2,<10"
    assert any(c.package == "pytest-asyncio" and c.new_spec == ">=1.3.0" for c in changes) is bumped


CHAIN_FILES = {
    "svc/setup.cfg": """\
    [tool:pytest]
    asyncio_mode = auto
    addopts = --strict
    filterwarnings =
        error
        ignore::pytest.PytestRemovedIn9Warning
    """,
    "svc/tests/conftest.py": """\
    import asyncio

    import pytest


    @pytest.fixture(scope="session")
    def event_loop():
        loop = asyncio.new_event_loop()
        yield loop
        loop.close()


    def pytest_ignore_collect(path, config):
        return path.basename == "skip.py"


    @pytest.mark.asyncio
    @pytest.fixture(scope="session")
    async def db():
        return 1
    """,
    "svc/tests/test_a.py": """\
    import pytest


    @pytest.mark.parametrize("x", [1, 2], False)
    async def test_a(x, db, event_loop):
        assert event_loop.is_running()
    """,
}


def test_chain_pytest_asyncio_then_pytest() -> None:
    files, _ = rewrite_files("pytest-asyncio", CHAIN_FILES)
    files, _ = rewrite_files("pytest", files)
    assert files["svc/setup.cfg"] == (
        "[tool:pytest]\nasyncio_mode = auto\naddopts = --strict-markers\nfilterwarnings =\n    error\n"
        "asyncio_default_fixture_loop_scope = session\nasyncio_default_test_loop_scope = session\n"
    )
    assert files["svc/tests/conftest.py"] == (
        "import pytest_asyncio\n\n\n"
        "def pytest_ignore_collect(collection_path, config):\n"
        '    return collection_path.name == "skip.py"\n\n\n'
        '@pytest_asyncio.fixture(scope="session", loop_scope="session")\nasync def db():\n    return 1\n'
    )
    assert files["svc/tests/test_a.py"] == (
        "import pytest\nimport asyncio\n\n\n"
        '@pytest.mark.parametrize("x", [1, 2], indirect=False)\n'
        "async def test_a(x, db):\n    assert asyncio.get_running_loop().is_running()\n"
    )
    # each recipe is idempotent on the chained result, in either order
    for rid_ in ("pytest-asyncio", "pytest"):
        again, _ = rewrite_files(rid_, files)
        assert again == files
    # pytest alone leaves pytest-asyncio's work to it and does not break it
    alone, _ = rewrite_files("pytest", CHAIN_FILES)
    assert "def event_loop" in alone["svc/tests/conftest.py"]
    assert "asyncio_mode = auto" in alone["svc/setup.cfg"]
