"""`--strict` in addopts or tox commands

--strict now turns on every strictness option; replaced by --strict-markers (its old meaning)
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from fleetshift.recipes import _pytest_config as pc
from fleetshift.recipes.base import config_kind
from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, since="9.0", order=6)

STRICT = re.compile(r"(?<!\S)--strict(?![\w-])")


def _tox_strict(section: str, line: str) -> bool:
    """A pytest command in a tox testenv that passes `--strict`."""
    return section.startswith("testenv") and "pytest" in line and bool(STRICT.search(line))


def check_config(path: str, text: str) -> Iterator[tuple[int, str]]:
    """`--strict` in addopts, and in a tox testenv's pytest command."""
    conf = pc.read(path, text)
    if conf is not None and "--strict" in conf.args():
        yield pc.line_of(text, "--strict"), "--strict in addopts"
    if config_kind(path) == "tox.ini":
        for n, section, line in pc.ini_lines(text):
            if _tox_strict(section, line):
                yield n, line


def fix_config(path: str, text: str) -> tuple[str, list[tuple[int, str]]]:
    """`--strict` becomes `--strict-markers` in addopts and in tox testenv commands."""
    conf = pc.read(path, text)
    if conf is not None:
        text = pc.sub_args(conf, text, "addopts", STRICT, "--strict-markers")
    if config_kind(path) == "tox.ini":
        lines = text.splitlines(keepends=True)
        for i, (_, section, line) in enumerate(pc.ini_lines(text)):
            if _tox_strict(section, line):
                lines[i] = STRICT.sub("--strict-markers", lines[i])
        text = "".join(lines)
    return text, []
