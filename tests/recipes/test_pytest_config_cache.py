"""The pytest config of a text is read once per process and shared (`_pytest_config.read`, the TOML documents of
`_pytest_config.toml`): an edit never changes what is shared, and reads and edits give what a fresh parse gives."""

from __future__ import annotations

import re
import tomllib

import pytest

from fleetshift.recipes import _pytest_config as pc
from fleetshift.recipes._pytest_config import toml

PYPROJECT = """\
[project]
name = "svc"

[tool.pytest.ini_options]
addopts = "-ra --strict -W error::pytest.PytestRemovedIn9Warning"
filterwarnings = [
    "error",
    "ignore::pytest.PytestRemovedIn9Warning",  # going
]
asyncio_mode = "auto"
"""
NATIVE = """\
[tool.pytest]
addopts = ["-ra", "--strict"]
filterwarnings = ["ignore::pytest.PytestRemovedIn9Warning"]
"""
STRICT = re.compile(r"(?<!\S)--strict(?![\w-])")


def _edits(cfg: pc.PytestConfig, text: str) -> list[str]:
    return [
        pc.set_key(cfg, text, "asyncio_default_fixture_loop_scope", "function"),
        pc.set_key(cfg, text, "asyncio_mode", "auto"),  # already so: unchanged
        pc.filter_lines(cfg, text, "filterwarnings", lambda e: "PytestRemovedIn9Warning" in e),
        pc.filter_lines(cfg, text, "filterwarnings", lambda e: "nothing" in e),
        pc.filter_lines(cfg, text, "markers", lambda e: True),  # no such key
        pc.sub_args(cfg, text, "addopts", STRICT, "--strict-markers"),
        pc.sub_args(cfg, text, "addopts", re.compile("--nothing"), ""),
    ]


@pytest.mark.parametrize("text", [PYPROJECT, NATIVE])
def test_shared_reads_and_edits_match_fresh_ones(text: str) -> None:
    path = "svc/pyproject.toml"
    cfg = pc.read(path, text)
    assert cfg is not None and pc.read(path, text) is cfg  # read once
    shared = _edits(cfg, text)
    assert toml._parsed(text) == tomllib.loads(text)  # the shared document was not changed by the edits
    pc.read.cache_clear()
    toml._parsed.cache_clear()
    fresh_cfg = pc.read(path, text)
    assert fresh_cfg == cfg
    original = toml._parsed
    try:
        toml._parsed = lambda _text: None  # type: ignore[assignment]  (as when nothing is known: fresh parses)
        assert _edits(fresh_cfg, text) == shared
    finally:
        toml._parsed = original
    assert [new == text for new in shared[2:]] == [False, True, True, False, True]


def test_an_edited_text_is_read_again() -> None:
    path = "svc/pyproject.toml"
    cfg = pc.read(path, PYPROJECT)
    assert cfg is not None
    new = pc.set_key(cfg, PYPROJECT, "asyncio_mode", "strict")
    again = pc.read(path, new)
    assert again is not None and again.get("asyncio_mode") == "strict" and cfg.get("asyncio_mode") == "auto"
