"""The read-only TOML readers (discovery's pyproject.toml, the pytest tables) read with tomllib, falling back to
tomlkit when tomllib refuses a text: the same values either way, and tomlkit's leniency kept."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomlkit

from fleetshift.manifests import read_manifest
from fleetshift.recipes._pytest_config import toml as pytest_toml

PROJECT = """\
[project]
name = "svc"
dependencies = [
    "requests>=2.31",  # a comment
    'tenacity ~= 8.2',
    "influxdb-client[ciso]>=1.40; python_version >= '3.9'",
]

[project.optional-dependencies]
test = ["pytest>=7", {include = "x"}]

[dependency-groups]
dev = ["pytest-asyncio==0.21.*"]

[tool.uv]
dev-dependencies = ["ruff"]

[tool.pytest.ini_options]
asyncio_mode = "auto"
markers = ["slow: slow tests", "db"]
filterwarnings = ["error", 'ignore::DeprecationWarning']
minversion = 7.0
xfail_strict = true
timeout = 30
"""
# a newline inside an inline table: tomlkit accepts it, tomllib does not
LENIENT = PROJECT.replace('{include = "x"}', '{\ninclude = "x" }')


def _tomlkit_only(monkeypatch: pytest.MonkeyPatch) -> None:
    import tomllib

    def refuse(text: str, **kwargs: object) -> object:
        raise tomllib.TOMLDecodeError("refused")

    monkeypatch.setattr(tomllib, "loads", refuse)
    pytest_toml._parsed.cache_clear()


@pytest.mark.parametrize("text", [PROJECT, LENIENT])
def test_pyproject_pins_are_those_tomlkit_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    (tmp_path / "pyproject.toml").write_text(text)
    fast = read_manifest(tmp_path, "pyproject.toml")
    with monkeypatch.context() as m:
        _tomlkit_only(m)
        slow = read_manifest(tmp_path, "pyproject.toml")
    assert fast == slow
    assert [p.package for p in fast[0].pins] == ["requests", "tenacity", "influxdb-client", "pytest",
                                                 "pytest-asyncio", "ruff"]


def test_pyproject_read_without_tomlkit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text(PROJECT)

    def boom(text: str) -> object:
        raise AssertionError("tomlkit asked")

    monkeypatch.setattr(tomlkit, "parse", boom)
    pytest_toml._parsed.cache_clear()
    manifest, findings = read_manifest(tmp_path, "pyproject.toml")
    assert len(manifest.pins) == 6 and not findings
    assert pytest_toml.sections("pyproject.toml", PROJECT) == ["tool.pytest.ini_options"]
    assert pytest_toml.values(PROJECT, "tool.pytest.ini_options")["asyncio_mode"] == "auto"
    pytest_toml._parsed.cache_clear()


def test_poetry_tables_keep_tomlkit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = '[tool.poetry.dependencies]\npython = "^3.9"\ntenacity = { version = "^8.2", extras = ["x"] }\n'
    (tmp_path / "pyproject.toml").write_text(text)
    fast = read_manifest(tmp_path, "pyproject.toml")
    with monkeypatch.context() as m:
        _tomlkit_only(m)
        slow = read_manifest(tmp_path, "pyproject.toml")
    assert fast == slow and fast[0].pins[0].raw == 'tenacity = { version = "^8.2", extras = ["x"] }'


@pytest.mark.parametrize("text", [PROJECT, LENIENT, PROJECT.replace("timeout = 30", "at = 1979-05-27T07:32:00-08:00"),
                                  "[tool.pytest.ini_options\n", "[pytest]\naddopts = ['-q', \"-x\"]\n"])
def test_pytest_tables_are_those_tomlkit_reads(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    kind = "pytest.toml" if text.startswith("[pytest]") else "pyproject.toml"
    pytest_toml._parsed.cache_clear()
    fast = [(s, pytest_toml.values(text, s)) for s in pytest_toml.sections(kind, text)]
    with monkeypatch.context() as m:
        _tomlkit_only(m)
        slow = [(s, pytest_toml.values(text, s)) for s in pytest_toml.sections(kind, text)]
    pytest_toml._parsed.cache_clear()
    assert repr(fast) == repr(slow)
    assert fast or text.startswith("[tool.pytest.ini_options\n")
