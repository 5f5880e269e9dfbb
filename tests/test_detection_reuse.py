"""The run reuses the scan's detection (`model.Detection`, `recipes.base.Known`) and that changes nothing.

Every recipe runs in chain order twice over each service, once with the sites the scan found (for the files they
still hold for: a file an earlier recipe changed, or one changed on disk since the scan, is detected again) and
once detecting everything itself; texts and findings must be identical. Over the demo fleet, every project under
tests/projects and a generated fleet shaped like real services (long test modules, where pytest-asyncio edits
files pytest 9 then rewrites: the stale path).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

import pytest
from test_rewrite_gate import FLEETS, RECIPES, _files

from fleetshift.model import Finding, Service
from fleetshift.pipeline import survey
from fleetshift.recipes import base, get
from fleetshift.recipes.base import RewriteContext
from fleetshift.rewrite import _known
from fleetshift.scancache import digest

ROOT = Path(__file__).resolve().parent.parent


class Spy:
    """Counts what the recipes were handed: contexts with the scan's sites, and stale files among them."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.known = self.stale = self.skipped = 0
        self.recipes: set[str] = set()
        migrate = base.Recipe.migrate

        def counting(recipe: base.Recipe, ctx: RewriteContext) -> base.ServiceRewrite:
            if ctx.known is not None:
                self.known += 1
                self.recipes.add(recipe.id)
                self.stale += len(ctx.known.stale)
                self.skipped += sum(1 for p in ctx.known.sources if not ctx.known.sites.get(p))
            return migrate(recipe, ctx)

        monkeypatch.setattr(base.Recipe, "migrate", counting)


def _chain(root: Path, service: Service, files: Mapping[str, str], targets: Mapping[str, str],
           reuse: bool) -> tuple[dict[str, str], list[Finding]]:
    """Every recipe in chain order, as `rewrite._rewrite_here` chains them (with the scan's sites when `reuse`)."""
    digests = {rel: digest((root / rel).read_bytes()) for rel in service.python_files if rel in files}
    texts, findings = dict(files), []
    for rid in RECIPES:
        recipe = get(rid)
        known = _known(recipe, service, digests, texts, files) if reuse else None
        out = recipe.migrate(RewriteContext(service=service, targets=targets, files=dict(texts), known=known))
        texts.update(out.texts)
        findings += out.findings
    return texts, findings


def _same(root: Path) -> None:
    s = survey(root, use_cache=False)
    targets = s.config.target_specs()
    for service in s.fleet.services:
        assert service.detection is not None, service.name
        files = _files(root, service)
        assert _chain(root, service, files, targets, True) == _chain(root, service, files, targets, False), service.name


@pytest.mark.parametrize("fleet", FLEETS, ids=lambda p: p.name)
def test_reuse_changes_nothing_on_fleets(fleet: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / fleet.name
    shutil.copytree(fleet, root, ignore=shutil.ignore_patterns(".fleetshift", ".venv", "__pycache__"))
    spy = Spy(monkeypatch)
    _same(root)
    assert spy.known or not any(s.python_files for s in survey(root, use_cache=False).fleet.services)


def test_reuse_changes_nothing_on_a_real_shaped_fleet(generated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spy = Spy(monkeypatch)
    _same(generated)
    assert spy.known, "no recipe was given the scan's sites"
    assert spy.skipped, "no file was left alone for holding no site"
    assert spy.stale, "no earlier recipe's edit made a later recipe detect a file again"
    assert {"pytest", "pytest-asyncio", "influxdb3"} <= spy.recipes  # service-level, file-level and per-file


def test_a_file_edited_after_the_scan_is_detected_again(generated: Path, tmp_path: Path) -> None:
    root = tmp_path / "fleet"
    shutil.copytree(generated, root, ignore=shutil.ignore_patterns(".fleetshift"))
    s = survey(root, use_cache=False)
    service = next(sv for sv in s.fleet.services if any("/tests/" in f"/{p}" for p in sv.python_files))
    test_file = next(p for p in service.python_files if p.rsplit("/", 1)[-1].startswith("test_"))
    path = root / test_file
    path.write_text(path.read_text() + "\n\n@pytest.yield_fixture\ndef added_after_the_scan():\n    yield 1\n")
    files = _files(root, service)
    targets = s.config.target_specs()
    digests = {rel: digest((root / rel).read_bytes()) for rel in service.python_files}
    assert _known(get("pytest"), service, digests, files, files).stale == {test_file}
    assert _known(get("pytest-asyncio"), service, digests, files, files) is None  # detects across files: all again
    texts, _ = _chain(root, service, files, targets, True)
    assert "@pytest.fixture\ndef added_after_the_scan" in texts[test_file]
    assert (texts, _) == _chain(root, service, files, targets, False)


def test_no_reuse_without_the_scan_or_when_a_file_came_or_went(generated: Path, tmp_path: Path) -> None:
    root = tmp_path / "fleet"
    shutil.copytree(generated, root, ignore=shutil.ignore_patterns(".fleetshift"))
    s = survey(root, use_cache=False)
    service = s.fleet.services[0]
    files = _files(root, service)
    digests = {rel: digest((root / rel).read_bytes()) for rel in service.python_files}
    recipe = get("pytest")
    assert _known(recipe, service, digests, files, files) is not None
    bare = Service(service.name, service.path, service.manifests, service.python_files, service.config_files)
    assert _known(recipe, bare, digests, files, files) is None
    fewer = dict(list(digests.items())[1:])
    assert _known(recipe, service, fewer, files, files) is None
    assert _known(get("influxdb3"), service, digests, files, files) is not None  # detects file by file: its sites too


def test_a_warm_scan_hands_over_the_same_detection(generated: Path, tmp_path: Path) -> None:
    root = tmp_path / "fleet"
    shutil.copytree(generated, root, ignore=shutil.ignore_patterns(".fleetshift"))
    cold = {s.name: s.detection for s in survey(root).fleet.services}
    warm = {s.name: s.detection for s in survey(root).fleet.services}
    assert cold == warm
    assert any(d is not None and d.recipes for d in cold.values())


def _tenacity_service(root: Path) -> None:
    """A service whose tenacity detection reads across files: a statistics read of a function retried in another
    module, and a test patching asyncio.sleep in a module that does not import tenacity itself."""
    files = {
        "requirements.txt": "tenacity==8.2.3\npytest==8.3.5\n",
        "app/__init__.py": "",
        "app/retrying.py": "from tenacity import retry, stop_after_attempt\n\n\n@retry(stop=stop_after_attempt(3))\n"
                           "def fetch():\n    return 1\n",
        "app/use.py": "from app.retrying import fetch\n\n\ndef calls():\n    return fetch.retry.statistics\n",
        "app/plain.py": "def helper():\n    return 2\n",
        "tests/test_sleep.py": "from unittest import mock\n\n\n@mock.patch(\"asyncio.sleep\")\ndef test_waits(sleep):\n"
                               "    assert sleep\n",
        "tests/test_backoff.py": "from unittest import mock\n\nimport tenacity\n\n\n@mock.patch(\"asyncio.sleep\")\n"
                                 "def test_backs_off(sleep):\n    assert tenacity.retry and sleep\n",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def test_tenacity_detects_again_only_the_files_reading_a_changed_one(tmp_path: Path) -> None:
    root = tmp_path / "fleet"
    _tenacity_service(root)
    s = survey(root, use_cache=False)
    (service,) = s.fleet.services
    files = _files(root, service)
    record = service.detection.recipes["tenacity"]  # type: ignore[union-attr]
    assert record is not None and record.reads is not None, "tenacity's record says what each file's detection read"
    assert record.reads["app/use.py"] == {"app/retrying.py"}  # the module its retried function comes from
    assert record.reads["app/retrying.py"] == frozenset()  # imports tenacity itself: asks no other module
    assert "app/plain.py" in record.reads["tests/test_sleep.py"]  # whether the service uses tenacity: every module
    assert record.reads["tests/test_backoff.py"] == frozenset()  # ... which one that imports tenacity answers itself
    assert record.sites["app/use.py"] and record.sites["tests/test_sleep.py"] and record.sites["tests/test_backoff.py"]

    digests = {rel: digest((root / rel).read_bytes()) for rel in service.python_files}
    edited = {**files, "app/plain.py": files["app/plain.py"] + "\n\ndef more():\n    return 3\n"}
    known = _known(get("tenacity"), service, digests, edited, files)
    assert known is not None
    assert known.stale == {"app/plain.py", "tests/test_sleep.py"}
    assert known.sites["app/use.py"] == record.sites["app/use.py"]

    edited = {**files, "app/retrying.py": files["app/retrying.py"].replace("@retry(", "@retry(reraise=True, ")}
    known = _known(get("tenacity"), service, digests, edited, files)
    assert known is not None and known.stale == {"app/retrying.py", "app/use.py", "tests/test_sleep.py"}
    targets = s.config.target_specs()
    for texts in (files, edited):
        assert _chain(root, service, texts, targets, True) == _chain(root, service, texts, targets, False)


def test_a_stale_file_whose_text_cannot_hold_a_site_is_not_detected_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """A file changed since the scan that holds one of the recipe's tokens but none of its rules' needs holds no
    site (`recipes.needs`): it is among the sources, with no site, and its sites are not detected again; one that
    may hold a site is."""
    from fleetshift.recipes import needs, sparse

    recipe = get("pytest")
    cold = "import asyncio\n\n\nasync def test_x():\n    await asyncio.sleep(0)\n"
    hot = "import pytest\n\n\n@pytest.yield_fixture\ndef f():\n    yield 1\n"
    assert not needs.may_hold(recipe, "svc/tests/test_a.py", cold) and needs.may_hold(recipe, "svc/tests/test_b.py", hot)
    files = {"svc/tests/test_a.py": cold, "svc/tests/test_b.py": hot}
    service = Service(name="svc", path="svc", python_files=tuple(files))
    detected: list[str] = []
    detect_file = type(recipe).detect_file

    def counting(self: base.Recipe, src: base.SourceFile, texts: Mapping[str, str]) -> object:
        detected.append(src.path)
        return detect_file(self, src, texts)

    monkeypatch.setattr(type(recipe), "detect_file", counting)
    stale = base.Known(frozenset(), {}, frozenset(files))
    known = recipe.known(RewriteContext(service=service, targets={}, files=files, known=stale))
    assert known is not None and known.sources == set(files) and set(known.sites) == {"svc/tests/test_b.py"}
    assert detected == ["svc/tests/test_b.py"]
    sparse._PARSES[cold] = None  # spliced from a view whose rewrite parses: not even parsed
    monkeypatch.setattr("fleetshift.recipes._ast.parse_tree", lambda text: pytest.fail("parsed"))
    ctx = RewriteContext(service=service, targets={}, files={"svc/tests/test_a.py": cold},
                         known=base.Known(frozenset(), {}, frozenset({"svc/tests/test_a.py"})))
    try:
        assert recipe.known(ctx) == base.Known(frozenset({"svc/tests/test_a.py"}), {})
    finally:
        sparse.forget()


def test_the_views_of_unchanged_modules_are_read_off_the_scans_outlines(
        generated: Path, record_calls: Callable[[object, str], list[object]]) -> None:
    """The scan keeps an outline of each module holding a site of a recipe whose views `Recipe.rewrite_sparse` makes
    (`model.Detection.outlines`): the run makes its views of an unchanged module without parsing the module, with
    the same texts and findings as when it parses it."""
    from fleetshift.recipes import _ast

    s = survey(generated, use_cache=False)
    targets = s.config.target_specs()
    outlined = {rel: o for service in s.fleet.services if service.detection
                for rel, o in service.detection.outlines.items()}
    assert outlined, "the scan kept no outline"
    parsed = record_calls(_ast, "_parse")
    for service in s.fleet.services:
        files = _files(generated, service)
        parsed.clear()
        reused = _chain(generated, service, files, targets, True)
        originals = {files[rel] for rel in service.python_files if rel in outlined}
        whole = [t for t in parsed if t in originals]
        parsed.clear()
        assert reused == _chain(generated, service, files, targets, False), service.name
        if originals:
            assert len(whole) < len([t for t in parsed if t in originals]), service.name


def test_an_outline_stands_only_for_the_bytes_it_was_read_off(generated: Path, tmp_path: Path) -> None:
    root = tmp_path / "fleet"
    shutil.copytree(generated, root, ignore=shutil.ignore_patterns(".fleetshift"))
    s = survey(root, use_cache=False)
    service = next(sv for sv in s.fleet.services if sv.detection and sv.detection.outlines)
    assert service.detection is not None
    rel = next(iter(service.detection.outlines))
    files = _files(root, service)
    digests = {p: digest((root / p).read_bytes()) for p in service.python_files}
    recipe = next(get(rid) for rid in RECIPES
                  if (k := _known(get(rid), service, digests, files, files)) is not None and rel in k.outlines)
    assert rel in _known(recipe, service, digests, files, files).outlines  # type: ignore[union-attr]
    edited = {**files, rel: files[rel] + "\n\ndef added_by_an_earlier_recipe():\n    return 1\n"}
    known = _known(recipe, service, digests, edited, files)
    assert known is None or rel not in known.outlines  # changed by a recipe before this one
    other = {**digests, rel: digest(b"another text")}
    known = _known(recipe, service, other, files, files)
    assert known is None or rel not in known.outlines  # the file read now is not the one the scan read
    detection = service.detection
    wrong = replace(detection, outlines={**detection.outlines, rel: (b"0" * 16, *detection.outlines[rel][1:])})
    known = _known(recipe, replace(service, detection=wrong), digests, files, files)
    assert known is not None and rel not in known.outlines  # an outline of other bytes than the file's


DOTENV_MODULE = '''"""Settings."""
import os

from dotenv import dotenv_values, load_dotenv, set_key


def save(value):
    set_key(".env", "TOKEN", value)


class Settings:
    def load(self):
        return dotenv_values()


load_dotenv()  # fleetshift: ignore[python-dotenv/implicit-path]
DISABLED = os.environ.get("PYTHON_DOTENV_DISABLED")
'''


def test_dotenv_reads_its_findings_off_the_scans_sites(tmp_path: Path,
                                                       record_calls: Callable[[object, str], list[object]]) -> None:
    """python-dotenv rewrites nothing: its findings are its sites, which the scan keeps with their rules and details
    in the order detection reports them (`Recipe.keeps_sites`): the run parses no module of it the scan read and
    left as it was, and tells the same findings, in the same order, as when it parses each module (a site in a def
    is reported after one at module level; a silenced one all the same)."""
    from fleetshift.recipes import _ast

    root = tmp_path / "fleet"
    (root / "svc").mkdir(parents=True)
    (root / "svc" / "requirements.txt").write_text("python-dotenv==1.0.1\n")
    (root / "svc" / "settings.py").write_text(DOTENV_MODULE)
    s = survey(root, use_cache=False)
    service = s.fleet.services[0]
    files = _files(root, service)
    digests = {rel: digest((root / rel).read_bytes()) for rel in service.python_files}
    recipe = get("python-dotenv")
    known = _known(recipe, service, digests, files, files)
    assert known is not None and [rule for _, rule, _ in known.found["svc/settings.py"]] == [
        "python-dotenv/implicit-path", "python-dotenv/set-key", "python-dotenv/disabled-env",
        "python-dotenv/implicit-path"]
    targets = s.config.target_specs()
    parsed = record_calls(_ast, "_parse")
    reused = recipe.migrate(RewriteContext(service=service, targets=targets, files=files, known=known))
    assert DOTENV_MODULE not in parsed
    whole = recipe.migrate(RewriteContext(service=service, targets=targets, files=files))
    assert DOTENV_MODULE in parsed
    assert reused.findings == whole.findings and len(whole.findings) == 4
    assert [f.line for f in whole.findings] == [16, 8, 17, 13]  # the walk's order, not the lines'


def test_no_dotenv_match_gives_its_rules_summary() -> None:
    """A site whose `UsageSite.detail` is its rule's summary had no detail of its own (see `DotenvRecipe._finding`):
    the one rule whose `match` gives a detail never gives its summary."""
    from fleetshift.recipes.dotenv.rules.implicit_path import CALLS, MESSAGE

    summary = get("python-dotenv").rule("implicit-path").summary
    assert all(MESSAGE.format(call=call) != summary for call in CALLS.values())
