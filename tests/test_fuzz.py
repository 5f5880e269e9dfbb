"""Fuzzed inputs: whatever bytes a service's files hold, fleetshift never shows a traceback.

A bad fleetshift.toml (the user's own config) is exit 2 naming the file and the fix; a bad file of a service is
a Finding naming the file, and the rest of the fleet goes on: a second, healthy service in the same fleet is
still scanned, checked and rewritten normally. Two levels: in-process on the readers with many examples, and
the CLI end to end with a few. Examples are derandomized (CI is reproducible); `FLEETSHIFT_FUZZ_EXAMPLES=2000`
runs every in-process target that many times (and the CLI targets a fiftieth of it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fuzz_strategies import manifest_bytes, python_bytes
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fleetshift.config import ConfigError, load_config
from fleetshift.discover import discover
from fleetshift.manifests import apply_pin_changes, decode, manifest_kind, read_manifest, tox_minimum_files
from fleetshift.manifests.dockerfile import edit_dockerfile, read_dockerfile
from fleetshift.model import Finding, ManifestKind, Service
from fleetshift.project import read_project
from fleetshift.recipes import all_recipes
from fleetshift.recipes.base import PinChange, Recipe, RewriteContext, ServiceRewrite
from fleetshift.scan import scan, scan_python
from fleetshift.textio import UnreadableFile, decode_python

_MORE = int(os.environ.get("FLEETSHIFT_FUZZ_EXAMPLES", "0") or 0)


def fuzz(examples: int, *, cli: bool = False) -> settings:
    """Settings of one target: `examples` in CI, FLEETSHIFT_FUZZ_EXAMPLES on demand; always derandomized."""
    n = max(examples, _MORE // 50 if cli else _MORE)
    return settings(max_examples=n, deadline=None, derandomize=True, database=None, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much])


MANIFESTS = ("requirements.txt", "constraints.txt", "pyproject.toml", "setup.cfg", "Pipfile", "setup.py")
PROJECT_FILES = (*MANIFESTS, "tox.ini", "Dockerfile")

GOOD_APP = """\
import asyncio_mqtt


async def main():
    async with asyncio_mqtt.Client("localhost") as client:
        await client.publish("t", b"x")
"""
CHANGES = (
    PinChange("asyncio-mqtt", "aiomqtt", ">=2.4.0,<3", reason="replaced"),
    PinChange("tenacity", "tenacity", ">=9.1.2,<10", resolved="9.2.1"),
    PinChange("pytest-asyncio", "pytest-asyncio", ">=1.1,<2", library=True),
    PinChange("python-dotenv", "python-dotenv", None, remove=True),
    PinChange("requests", "requests", ">=2", add_after="tenacity"),
)


def _fleet(root: Path) -> Path:
    """A fleet of two services: `good` (asyncio-mqtt code to migrate) and `bad` (holds the fuzzed file; its pins
    make two recipes read it, one of them on test files). `.fleetshift/` (the caches) stays."""
    for old in root.glob("*"):
        if old.name != ".fleetshift":
            shutil.rmtree(old) if old.is_dir() else old.unlink()
    (root / "good").mkdir(parents=True)
    (root / "bad").mkdir()
    (root / "good" / "requirements.txt").write_text("asyncio-mqtt==0.16.1\n")
    (root / "good" / "app.py").write_text(GOOD_APP)
    (root / "bad" / "requirements.txt").write_text(BAD_PINS)
    (root / "bad" / "main.py").write_text("import os\n")
    return root


BAD_PINS = """\
asyncio-mqtt==0.16.1
pytest-asyncio==0.23.8
"""


def _put(root: Path, name: str, data: bytes) -> str:
    """Write the fuzzed file into the bad service (fresh each time); its fleet-relative path."""
    _fleet(root)
    if name == "fleetshift.toml":
        (root / name).write_bytes(data)
        return name
    (root / "bad" / name).parent.mkdir(parents=True, exist_ok=True)
    (root / "bad" / name).write_bytes(data)
    return f"bad/{name}"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "fleet"


def _about(findings: list[Finding] | tuple[Finding, ...], rel: str) -> None:
    for f in findings:
        assert isinstance(f, Finding) and f.message, f
        assert f.file == rel or rel in f.message or f.file.startswith("bad"), f


# ------------------------------------------------------------------------------------------ in-process

@pytest.mark.parametrize("name", MANIFESTS)
def test_manifest_readers_and_editors_never_raise(name: str, root: Path) -> None:
    @fuzz(50)
    @given(data=manifest_bytes(name))
    def prop(data: bytes) -> None:
        rel = _put(root, name, data)
        manifest, findings = read_manifest(root, rel)
        assert manifest.file == rel
        _about(findings, rel)
        text, _ = decode(rel, data)
        kind = manifest_kind(rel) or ManifestKind.REQUIREMENTS
        new, problems = apply_pin_changes(rel, text, kind, CHANGES)
        assert isinstance(new, str)
        _about(problems, rel)

    prop()


@pytest.mark.parametrize("name", PROJECT_FILES)
def test_project_reader_never_raises(name: str, root: Path) -> None:
    @fuzz(30)
    @given(data=manifest_bytes(name))
    def prop(data: bytes) -> None:
        rel = _put(root, name, data)
        project, findings = read_project(root, "bad")
        assert project is not None
        _about(findings, rel)
        tox_minimum_files(root, "bad")
        if name == "Dockerfile":
            text, _ = decode(rel, data)
            read_dockerfile(rel, text)
            edit_dockerfile(rel, text, CHANGES)

    prop()


@fuzz(80)
@given(data=manifest_bytes("fleetshift.toml"))
def test_config_loader_raises_only_config_errors_naming_the_file(data: bytes, root: Path) -> None:
    _put(root, "fleetshift.toml", data)
    try:
        config = load_config(root)
        discover(root, config)
    except ConfigError as exc:
        assert "fleetshift.toml" in str(exc) and "Fix:" in str(exc), str(exc)


RECIPES = all_recipes()


@fuzz(150)
@given(data=python_bytes())
def test_detection_never_raises(data: bytes) -> None:
    result = scan_python("bad/main.py", data, RECIPES)
    for f in result.findings:
        assert f.file == "bad/main.py" and f.rule != "scan/recipe-error", f


def _service(rel: str) -> Service:
    return Service("bad", "bad", python_files=(rel,))


@fuzz(60)
@given(data=python_bytes(), test=st.booleans())
def test_rewrite_of_each_recipe_never_raises(data: bytes, test: bool) -> None:
    rel = "bad/tests/test_main.py" if test else "bad/main.py"
    try:
        text = decode_python(data).text
    except UnreadableFile:
        return  # the rewrite stage leaves it unchanged with a Finding (its _read)
    targets = {r.package: r.migrates_to for r in RECIPES}
    for recipe in RECIPES:
        ctx = RewriteContext(service=_service(rel), targets=targets, files={rel: text})
        out = recipe.migrate(ctx)
        for f in out.findings:
            assert f.file.startswith("bad"), f


@pytest.mark.parametrize("name", [*PROJECT_FILES, "main.py"])
def test_discover_and_scan_go_on_past_a_bad_file(name: str, root: Path) -> None:
    @fuzz(10)
    @given(data=python_bytes() if name.endswith(".py") and name != "setup.py" else manifest_bytes(name))
    def prop(data: bytes) -> None:
        rel = _put(root, name, data)
        config = load_config(root)
        fleet = discover(root, config)
        inventory = scan(fleet, config, use_cache=False, jobs=1)
        good = next(s for s in inventory.services if s.service == "good")
        assert [(s.file, s.line) for s in good.sites] == [("good/app.py", 1), ("good/app.py", 5)]
        _about([f for s in inventory.services for f in s.findings if f.file.startswith("bad")], rel)

    prop()


# ---------------------------------------------------------------------------------------------- the CLI

def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run([sys.executable, "-m", "fleetshift", *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=300, check=False)


def _no_traceback(res: subprocess.CompletedProcess[str]) -> None:
    assert res.returncode in (0, 1, 2), (res.returncode, res.stdout[-3000:], res.stderr[-3000:])
    assert "Traceback" not in res.stdout + res.stderr, res.stderr[-3000:]


def _end_to_end(root: Path, name: str, data: bytes, *, named: bool = False) -> None:
    """scan, check and run --dry-run on the two-service fleet whose `bad` service holds the fuzzed file: no
    traceback; a bad fleetshift.toml is exit 2 naming it and the fix; else `good` is scanned, checked and
    rewritten as always (and with `named`, a Finding names the fuzzed file)."""
    rel = _put(root, name, data)
    scanned = _cli("scan", root, "--json", "--no-cache")
    _no_traceback(scanned)
    if name == "fleetshift.toml" and scanned.returncode == 2:
        assert "fleetshift.toml" in scanned.stderr and "Fix:" in scanned.stderr, scanned.stderr
        return
    assert scanned.returncode == 0, scanned.stderr[-3000:]
    inventory = json.loads(scanned.stdout)
    good = next(s for s in inventory["services"] if s["service"] == "good")
    assert [(s["file"], s["line"]) for s in good["sites"]] == [("good/app.py", 1), ("good/app.py", 5)]
    found = [f for s in inventory["services"] for f in s["findings"]] + inventory["findings"]
    if named:
        assert any(f["file"] == rel for f in found), found
    checked = _cli("check", root)
    _no_traceback(checked)
    assert "good/app.py:1:1 aiomqtt/imports" in checked.stdout, checked.stdout
    dry = _cli("run", root, "--dry-run")
    _no_traceback(dry)
    assert "+++ b/good/app.py" in dry.stdout and "+import aiomqtt" in dry.stdout, dry.stdout[-3000:]


_E2E_NAMES = ("requirements.txt", "pyproject.toml", "setup.cfg", "tox.ini", "Pipfile", "setup.py", "Dockerfile",
              "fleetshift.toml", "main.py", "tests/test_main.py")


def _any_file(name: str) -> st.SearchStrategy[bytes]:
    return python_bytes() if name in ("main.py", "tests/test_main.py") else manifest_bytes(name)


@fuzz(2, cli=True)
@example(pair=("pyproject.toml", '[project]\nname = "bad"\ndependencies = ["tenacity==8.2.3"]\n'.encode("utf-16")))
@example(pair=("Pipfile", b"[packages]\nx = " + b"[" * 3000 + b"]" * 3000 + b"\n"))
@example(pair=("tests/test_main.py", b"import pytest_asyncio\r\nname = '\xe9t\xe9'\r\n\x00"))
@given(pair=st.sampled_from(_E2E_NAMES).flatmap(lambda n: st.tuples(st.just(n), _any_file(n))))
def test_cli_on_a_fleet_with_one_fuzzed_file(pair: tuple[str, bytes], root: Path) -> None:
    _end_to_end(root, *pair)


# ----------------------------------------------------------------------------- crashes the fuzzing found

DEEP_UNARY = b"import tenacity\nx = " + b"-" * 6000 + b"1\n"


def test_a_python_file_nested_past_the_parser_stack_is_a_finding_and_the_fleet_goes_on(root: Path) -> None:
    # was: MemoryError out of ast.parse, a traceback from `fleetshift scan`
    _end_to_end(root, "tests/test_main.py", DEEP_UNARY, named=True)


def test_a_deeply_nested_fleetshift_toml_is_exit_2_naming_the_file(root: Path) -> None:
    # was: RecursionError out of tomllib, a traceback from every command
    _put(root, "fleetshift.toml", b"x = " + b"[" * 3000 + b"]" * 3000 + b"\n")
    res = _cli("scan", root)
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr[-2000:]
    assert "fleetshift.toml" in res.stderr and "too deeply nested" in res.stderr and "Fix:" in res.stderr


def test_a_pipfile_addition_beside_its_last_entry_is_written(root: Path) -> None:
    # was: ValueError "Unable to insert at position 1" out of tomlkit
    text = '[packages]\ntenacity = ""\n'
    new, findings = apply_pin_changes("bad/Pipfile", text, ManifestKind.PIPFILE, [CHANGES[-1]])
    assert new == '[packages]\ntenacity = ""\nrequests = ">=2"\n' and not findings


@pytest.mark.parametrize("name", ["pyproject.toml", "Pipfile"])
def test_a_deeply_nested_toml_manifest_is_a_finding(name: str, root: Path) -> None:
    # was: RecursionError out of tomllib in the project reader
    rel = _put(root, name, b"x = " + b"{a = " * 3000 + b"1" + b"}" * 3000 + b"\n")
    project, findings = read_project(root, "bad")
    manifest, more = read_manifest(root, rel)
    assert project is not None and not manifest.pins
    assert any(f.file == rel for f in [*findings, *more]), [*findings, *more]


def test_deep_nesting_in_python_is_a_finding_of_the_scan_and_of_each_rewrite() -> None:
    # was: MemoryError out of ast.parse (the scan); a segfault inside LibCST's parser (pytest-asyncio and pytest
    # handed it the text before ast refused it); RecursionError out of the recipes' visitors
    assert [f.rule for f in scan_python("bad/main.py", DEEP_UNARY, RECIPES).findings] == ["scan/too-deep"]
    deep_parens = "import pytest_asyncio\nimport asyncio_mqtt\nx = " + "(" * 5000 + ")" * 5000 + "\n"
    deep_calls = "import pytest_asyncio\nimport asyncio_mqtt\nx = " + "+".join(["a"] * 900) + "\n"
    rel = "bad/tests/test_main.py"

    def migrated(recipe: Recipe, text: str) -> ServiceRewrite:
        ctx = RewriteContext(service=_service(rel), targets={r.package: r.migrates_to for r in RECIPES},
                             files={rel: text})
        return recipe.migrate(ctx)

    rewritten = []
    for text in (DEEP_UNARY.decode(), deep_parens, deep_calls):
        deep = text[text.index("x = "):]  # the deep statement, the text's last line
        for recipe in RECIPES:
            out = migrated(recipe, text)
            assert all(f.file.startswith("bad/") for f in out.findings), out.findings
            if rel in out.texts:
                # a rewrite that never walks into the deep statement migrates the rest of the module and keeps the
                # statement as it was: the same text as its rewrite of the module without it
                new = out.texts[rel]
                assert new.endswith(deep) and compile(new, rel, "exec")
                assert new[: -len(deep)] == migrated(recipe, text[: -len(deep)]).texts[rel], recipe.id
                rewritten.append((recipe.id, text is deep_calls))
    # the parser's and the recipes' limits: only aiomqtt's import rename of the long sum gets through
    assert rewritten == [("aiomqtt", True)]


def test_an_include_whose_name_is_too_long_for_the_file_system_is_a_finding(root: Path) -> None:
    # was: OSError "File name too long" out of Path.is_file()
    rel = _put(root, "requirements.txt", b"-r " + b"a" * 300 + b"\ntenacity==8.2.3\n")
    manifest, findings = read_manifest(root, rel)
    assert [p.package for p in manifest.pins] == ["tenacity"]
    assert [f.rule for f in findings] == ["manifest/missing-include"]


def test_a_long_run_of_continuation_lines_is_read_in_linear_time(root: Path) -> None:
    # was: quadratic time in the comment regex ((^|\s+)#) on the joined blank run: 16,000 lines took 2 s
    rel = _put(root, "requirements.txt", b"tenacity==8.2.3" + b" \\\n" * 200_000 + b"\n")
    started = time.monotonic()
    manifest, _ = read_manifest(root, rel)
    assert time.monotonic() - started < 10
    assert [p.package for p in manifest.pins] == ["tenacity"]


@pytest.mark.parametrize("body", ["x = " + "lambda: " * 6000 + "1", "setup(install_requires=" + "+".join(["['a']"] * 900) + ")"])
def test_a_setup_py_nested_too_deeply_is_a_finding(body: str, root: Path) -> None:
    # was: MemoryError out of ast.parse (manifest and project readers), RecursionError out of the literal walk
    rel = _put(root, "setup.py", ("from setuptools import setup\n" + body + "\n").encode())
    _, findings = read_manifest(root, rel)
    assert any("too deeply nested" in f.message and f.file == rel for f in findings), findings
    project, _ = read_project(root, "bad")
    assert project is not None
