"""A pytest rule's fix asks LibCST for no metadata of a module where it never looks one up
(`RuleFix.asks_no_metadata`): the rewrite is the same as when every fix has its providers resolved."""

from __future__ import annotations

import textwrap

import pytest
from test_pytest9 import CASES

from fleetshift.recipes import fixes, get
from fleetshift.recipes.pytest9.facts import RuleFix

PYTHON = {c.path + str(i): textwrap.dedent(c.before) for i, c in enumerate(CASES) if c.path.endswith(".py")}
EXTRA = {  # every fix with and without what makes it look a line or a parent up
    "svc/tests/test_extra.py": (
        "import pytest\nfrom pytest import yield_fixture\n\n\n@yield_fixture\ndef f():\n    yield 1\n\n\n"
        "@pytest.mark.parametrize('a', [1], True, ids=['x'])\ndef test_a(a, f):\n    assert a\n\n\n"
        "class TestX:\n    @pytest.fixture\n    def g(self):\n        return 1\n"
    ),
    "svc/conftest.py": (
        "import pytest\n\n\ndef pytest_collect_file(parent, path):\n"
        "    return MyFile.from_parent(parent, fspath=path)\n\n\n"
        "def pytest_ignore_collect(path, config):\n    return path.basename == 'x'\n"
    ),
    "svc/tests/test_plain.py": "import pytest\n\n\n@pytest.fixture\ndef f():\n    return 1\n\n\ndef test_a(f):\n    assert f\n",
    # parametrize calls rewritten without a report, then each kind the run reports (a line looked up)
    "svc/tests/test_param.py": (
        "import pytest\nfrom pytest import mark as m\n\n\n@m.parametrize('a', [1], True, ['x'])\n"
        "@pytest.mark.parametrize(\n    'b', [2],\n    False,\n)\ndef test_a(a, b):\n    assert a\n"
    ),
    "svc/tests/test_param_star.py": (
        "import pytest\n\nARGS = (True,)\n\n\n@pytest.mark.parametrize('a', [1], *ARGS)\ndef test_a(a):\n    assert a\n"
    ),
    "svc/tests/test_param_twice.py": (
        "import pytest\n\n\n@pytest.mark.parametrize('a', [1], True, indirect=True)\ndef test_a(a):\n    assert a\n"
    ),
    "svc/tests/test_param_kwargs.py": (
        "import pytest\n\nKW = {}\n\n\n@pytest.mark.parametrize('a', [1], True, **KW)\ndef test_a(a):\n    assert a\n"
    ),
    "svc/tests/conftest.py": (  # a call only the fix takes for parametrize: its line is looked up all the same
        "def pytest_generate_tests(metafunc):\n    metafunc.parent.parametrize('a', [1], *metafunc.x)\n"
        "    metafunc.parametrize('b', [2], True)\n"
    ),
}


def _rewrites(monkeypatch: pytest.MonkeyPatch, every: bool) -> tuple[list[object], int]:
    resolved = 0
    apply = fixes.apply

    def counting(module: object, fs: list[object]) -> object:
        nonlocal resolved
        resolved += any(getattr(f, "METADATA_DEPENDENCIES", ()) for f in fs if f is not None)
        return apply(module, fs)  # type: ignore[arg-type]

    with monkeypatch.context() as m:
        m.setattr(fixes, "apply", counting)
        if every:
            m.setattr(RuleFix, "asks_no_metadata", lambda self: None)
        recipe = get("pytest")
        out = [recipe.rewrite_module(path.rstrip("0123456789"), text) for path, text in {**PYTHON, **EXTRA}.items()]
    return out, resolved


def test_fixes_asking_no_metadata_rewrite_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    gated, fewer = _rewrites(monkeypatch, every=False)
    every, more = _rewrites(monkeypatch, every=True)
    assert gated == every
    texts = [*PYTHON.values(), *EXTRA.values()]
    assert sum(new != text for (new, _), text in zip(gated, texts, strict=True)) > 10
    assert not any(f.severity.value == "error" for _, found in gated for f in found)  # type: ignore[attr-defined]
    assert fewer < more  # some modules' walks resolve no provider at all
