"""The influxdb3 recipe rewrites sparse views (see fleetshift.recipes.sparse and influxdb.hot) with the texts and
findings of the whole-module rewrite.

Every influxdb3 source with something to rewrite or report (the positive cases, every rewrite and every finding of
tests/recipes/test_influxdb.py) is embedded in a long module: the unrelated code of tests/test_sparse_rewrite.py,
and code that crosses statements the way the rewrite reads a module: a class assigning the source's module-level
names again, another class keeping the source's `self.` attributes, functions annotated with its imported names,
functions calling its methods on another receiver. Each runs sparse and whole, in LF, CRLF, no final newline and
with a BOM.
"""

from __future__ import annotations

import ast
import sys
import textwrap
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from fleetshift.recipes import get, sparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "recipes"))

import test_influxdb as cases  # noqa: E402
from test_rule_cases import ALL  # noqa: E402
from test_sparse_rewrite import VARIANTS, _both, _case_files, _embed, _names, variant_of  # noqa: E402

R = "influxdb3"


def _sources() -> Iterator[tuple[str, dict[str, str], str, Mapping[str, str] | None]]:
    """(name, files, path of the module, targets) of every influxdb3 source the recipe acts on."""
    for rid, case in ALL:
        if rid == R and case.positive and case.path.endswith(".py"):
            yield case.id(), _case_files(case), case.path, case.targets
    for p in cases.REWRITES:
        yield f"rewrite-{p.id}", {"app/store.py": textwrap.dedent(p.values[0])}, "app/store.py", None
    for key, (source, _rules) in cases.FINDINGS.items():
        yield f"finding-{key}", {"app/store.py": textwrap.dedent(source)}, "app/store.py", None


def _crossing(text: str) -> str:
    """Unrelated code using the source's names the way the rewrite reads across statements."""
    tree = ast.parse(text)
    consts = [t.id for s in tree.body if isinstance(s, ast.Assign) for t in s.targets if isinstance(t, ast.Name)]
    attrs = sorted({n.attr for n in ast.walk(tree)
                    if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "self"})
    imported = [a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names]
    methods = sorted({n.func.attr for n in ast.walk(tree)
                      if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)})
    out = ["\n\nclass Shadowing:\n    pass\n"]
    out += [f"\n\nclass Rebinds_{c}:\n    {c} = 'http://elsewhere:1'\n\n\ndef reads_{c}():\n    return {c}\n"
            for c in consts]
    out += [f"\n\nclass Keeps_{a}:\n    def __init__(self, x):\n        self.{a} = x\n\n    def read(self):\n"
            f"        return self.{a}\n" for a in attrs]
    out += [f"\n\ndef annotated_{n}(value: {n}) -> None:\n    return None\n" for n in imported if n != "*"]
    out += [f"\n\ndef calls_{m}(thing):\n    return thing.{m}()\n" for m in methods]
    return "".join(out)


def test_influxdb_is_sparse() -> None:
    assert get(R).sparse


def test_sparse_changes_nothing_in_long_crossing_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sparse, "WORTH", 1)
    spliced = []
    splice = sparse.splice

    def counting(v: sparse.View, new: str) -> tuple[str, list[int]] | None:
        out = splice(v, new)
        spliced.append(out is not None)
        return out

    monkeypatch.setattr(sparse, "splice", counting)
    sources = list(_sources())
    assert len(sources) > 60
    for n, (name, files, path, targets) in enumerate(sources):
        text = files[path]
        body = _embed(text, _names(text), "lf") + _crossing(text)
        for variant in dict.fromkeys(("lf", VARIANTS[n % len(VARIANTS)])):
            on, off = _both(R, {**files, path: variant_of(body, variant)}, targets, monkeypatch)
            assert on == off, f"{name} ({variant})"
    assert all(spliced), "a view was refused"
    assert len(spliced) > len(sources), "the long modules were not rewritten sparse"


def test_migrated_code_is_rewritten_whole() -> None:
    from fleetshift.recipes.influxdb.hot import hot_names

    text = "from influxdb_client_3 import InfluxDBClient3\n\n\ndef f():\n    return InfluxDBClient3()\n"
    assert hot_names(text, ast.parse(text), {}) is None
    text = text.replace("influxdb_client_3", "influxdb_client").replace("InfluxDBClient3", "InfluxDBClient")
    assert {"InfluxDBClient", "f"} - (hot_names(text, ast.parse(text), {}) or set()) == {"f"}
