"""setup.py as a manifest: its literal requirement strings read with `ast` (never run) and edited in place,
byte for byte elsewhere; computed values left alone with a Finding; and, end to end with real uv, a
project declaring its dependencies only in setup.py gets its pins moved so its after-environment installs
the targets."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fleetshift.cli import app
from fleetshift.config import load_config
from fleetshift.discover import discover
from fleetshift.manifests import apply_pin_changes, manifest_kind, read_manifest
from fleetshift.manifests.setuppy import _parse_setup_py
from fleetshift.model import ManifestKind
from fleetshift.recipes.base import PinChange

PY = ManifestKind.SETUP_PY
MQTT = PinChange("asyncio-mqtt", "aiomqtt", ">=2.3,<3")
TEN = PinChange("tenacity", "tenacity", ">=9.1.2,<10")
PYTEST = PinChange("pytest", "pytest", ">=9.0.2,<10")
DROP = PinChange("pytest-dotenv", "pytest-dotenv", None, remove=True)

SETUP_PY = '''\
#!/usr/bin/env python
import setuptools
from pathlib import Path

TESTS = [
    'pytest>=7.4,<8.4',  # the test runner
    "pytest-dotenv",
]

here = Path(__file__).parent
REQS = (here / "requirements.txt").read_text().splitlines()

setuptools.setup(
    name="svc",
    install_requires=["asyncio-mqtt>=0.13,<0.17", 'tenacity==8.2.3 ; python_version >= "3.8"',
                      "requests"],  # keep
    setup_requires=("setuptools_scm",),
    tests_require=TESTS,
    extras_require={
        "test": TESTS + ["pytest-dotenv>=0.5", "coverage"],
        "retry": ["tenacity>=8"],
        "all": REQS,
    },
)
'''


def read(tmp_path: Path, text: str, rel: str = "svc/setup.py"):
    (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / rel).write_text(text)
    return read_manifest(tmp_path, rel)


def test_setup_py_is_a_manifest_kind() -> None:
    assert manifest_kind("svc/setup.py") is PY and manifest_kind("svc/setup.cfg") is ManifestKind.SETUP_CFG
    assert manifest_kind("svc/conf.py") is None


def test_setup_py_read(tmp_path: Path) -> None:
    m, findings = read(tmp_path, SETUP_PY)
    got = [(p.package, p.spec, p.line, p.section) for p in m.pins]
    assert got == [
        ("asyncio-mqtt", ">=0.13,<0.17", 15, "dependencies"),
        ("tenacity", "==8.2.3", 15, "dependencies"),
        ("requests", "", 16, "dependencies"),
        ("setuptools-scm", "", 17, "setup_requires"),
        ("pytest", ">=7.4,<8.4", 6, "tests_require"),
        ("pytest-dotenv", "", 7, "tests_require"),
        ("pytest", ">=7.4,<8.4", 6, "extra:test"),
        ("pytest-dotenv", "", 7, "extra:test"),
        ("pytest-dotenv", ">=0.5", 20, "extra:test"),
        ("coverage", "", 20, "extra:test"),
        ("tenacity", ">=8", 21, "extra:retry"),
    ]
    assert next(p for p in m.pins if p.package == "tenacity").marker == 'python_version >= "3.8"'
    # the file read at setup time is not a literal: a Finding names its line, nothing is guessed
    assert [(f.line, f.rule) for f in findings] == [(22, "manifest/setup-py-dynamic")]
    assert "setup-py-dynamic" in findings[0].rule and "REQS" in findings[0].message


def test_setup_py_edit_keeps_quotes_markers_comments_and_commas() -> None:
    after, findings = apply_pin_changes("setup.py", SETUP_PY, PY, [MQTT, TEN, PYTEST, DROP])
    assert findings == []
    assert after == SETUP_PY.replace(
        "'pytest>=7.4,<8.4',  # the test runner", "'pytest>=9.0.2,<10',  # the test runner"
    ).replace('    "pytest-dotenv",\n', "").replace(
        '["asyncio-mqtt>=0.13,<0.17", \'tenacity==8.2.3 ; python_version >= "3.8"\',',
        '["aiomqtt>=2.3,<3", \'tenacity>=9.1.2,<10 ; python_version >= "3.8"\',',
    ).replace('TESTS + ["pytest-dotenv>=0.5", "coverage"]', 'TESTS + ["coverage"]').replace(
        '["tenacity>=8"]', '["tenacity>=9.1.2,<10"]'
    )
    # a second run changes nothing
    again, more = apply_pin_changes("setup.py", after, PY, [MQTT, TEN, PYTEST, DROP])
    assert again == after and more == []


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ('setup(install_requires=["a", "pytest-dotenv", "b"])\n', 'setup(install_requires=["a", "b"])\n'),
        ('setup(install_requires=["a", "pytest-dotenv"])\n', 'setup(install_requires=["a"])\n'),
        ('setup(install_requires=["a", "pytest-dotenv",])\n', 'setup(install_requires=["a",])\n'),
        ('setup(install_requires=("pytest-dotenv",))\n', "setup(install_requires=())\n"),
        ('setup(install_requires=["pytest-dotenv"])\n', "setup(install_requires=[])\n"),
        (
            'setup(\n    install_requires=[\n        "a",\n        "pytest-dotenv",  # env files\n    ],\n)\n',
            'setup(\n    install_requires=[\n        "a",\n    ],\n)\n',
        ),
        (
            'setup(install_requires=[\n    "a",\n    "pytest-dotenv"\n])\n',
            'setup(install_requires=[\n    "a",\n])\n',
        ),
    ],
)
def test_setup_py_removal_drops_the_element_cleanly(before: str, after: str) -> None:
    got, findings = apply_pin_changes("setup.py", before, PY, [DROP])
    assert (got, findings) == (after, [])
    compile(got, "setup.py", "exec")


def test_setup_py_strings_it_cannot_edit_get_a_finding() -> None:
    before = 'setup(install_requires=["tenacity" "==8.2.3", "asyncio-mqtt\\x3e=0.13"])\n'
    after, findings = apply_pin_changes("setup.py", before, PY, [TEN, MQTT])
    assert after == before
    assert [f.rule for f in findings] == ["manifest/cannot-edit", "manifest/cannot-edit"]


def test_setup_py_computed_values_are_left_alone() -> None:
    before = (
        "import setuptools\n"
        "deps = [line for line in open('requirements.txt')]\n"
        "setuptools.setup(install_requires=deps, extras_require=make_extras(), tests_require=['tenacity', X])\n"
    )
    after, _ = apply_pin_changes("setup.py", before, PY, [PinChange("tenacity", "tenacity", "==9.1.2")])
    assert after == before.replace("['tenacity', X]", "['tenacity==9.1.2', X]")  # only the literal moves
    values, problems = _parse_setup_py("setup.py", before)
    assert [v.pin.package for v in values] == ["tenacity"]
    assert sorted(f.line for f in problems) == [3, 3, 3] and all(f.rule.endswith("setup-py-dynamic") for f in problems)


def test_setup_py_is_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    text = f"open({str(marker)!r}, 'w').write('x')\nfrom setuptools import setup\nsetup(install_requires=['a==1'])\n"
    m, findings = read(tmp_path, text)
    assert [p.package for p in m.pins] == ["a"] and findings == [] and not marker.exists()


def test_setup_py_unparseable_is_a_finding(tmp_path: Path) -> None:
    m, findings = read(tmp_path, "setup(install_requires=['a'\n")
    assert m.pins == () and [f.rule for f in findings] == ["manifest/unparseable"]


def test_discover_lists_setup_py_pins_of_the_corpus_project() -> None:
    root = Path(__file__).parent / "projects" / "setup-py-only"
    fleet = discover(root, load_config(root))
    (service,) = fleet.services
    setup = next(m for m in service.manifests if m.file == "setup.py")
    assert setup.kind is PY
    assert {p.package for p in setup.pins} >= {"asyncio-mqtt", "influxdb-client", "pytest", "pytest-asyncio"}


# ---- end to end: a verified run of the corpus project ------------------------------------------------------


@pytest.mark.slow
def test_setup_py_only_project_run_moves_its_pins(tmp_path: Path) -> None:
    """`fleetshift run` (verified, real uv) on tests/projects/setup-py-only: the after-environment installs
    the targets from the edited setup.py (before, it still installed asyncio-mqtt and the tests failed on
    `No module named 'aiomqtt'`). The run still rolls back, on the two sites the recipes leave to a person
    (aiomqtt Client built outside a loop, InfluxDBClient3 without database=); `run --no-verify` then
    writes setup.py, and a second run changes nothing."""
    root = tmp_path / "p"
    shutil.copytree(Path(__file__).parent / "projects" / "setup-py-only", root)
    for cmd in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "b"]):
        subprocess.run(["git", *cmd], cwd=root, check=True)
    assert CliRunner().invoke(app, ["init", str(root)]).exit_code == 0
    config = (root / "fleetshift.toml").read_text()
    config = config.replace('# python_floor = "keep"', 'python_floor = "raise"', 1)  # pytest 9 needs >=3.9
    (root / "fleetshift.toml").write_text(config)
    original = (root / "setup.py").read_text()

    res = CliRunner().invoke(app, ["run", str(root), "--yes"])
    logs = sorted((root / ".fleetshift" / "runs").glob("*/logs/*"))
    assert logs, res.output
    install = (logs[-1] / "new-install.log").read_text()
    tests = (logs[-1] / "new-tests.log").read_text()
    for line in (" + aiomqtt==2.", " + influxdb3-python==", " + pytest==9.", " + pytest-asyncio==1."):
        assert line in install, install
    assert "asyncio-mqtt" not in install and " + influxdb-client==" not in install
    assert "No module named" not in tests and "passed" in tests
    residual = next((root / ".fleetshift" / "runs").glob("*/residual-work.md")).read_text()
    assert "database=" in residual and "running event loop" in residual  # why it rolled back
    assert (root / "setup.py").read_text() == original  # rolled back

    res = CliRunner().invoke(app, ["run", str(root), "--no-verify", "--yes"])
    assert res.exit_code == 0, res.output
    text = (root / "setup.py").read_text()
    for pin in ('"aiomqtt>=2.4.0,<3"', '"influxdb3-python>=0.17.0,<1"', '"pytest>=9.0.2,<10"', '"pytest-asyncio==1.'):
        assert pin in text, text
    assert "asyncio-mqtt" not in text and "influxdb-client" not in text
    assert 'python_requires=">=3.10"' in text and text.count("\n") < original.count("\n")
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "a"], cwd=root, check=True)
    res = CliRunner().invoke(app, ["run", str(root), "--no-verify", "--yes"])
    assert (root / "setup.py").read_text() == text, res.output
