"""[tool.pytest] and [tool.pytest.ini_options] together

pytest 9 stops with 'Cannot use both [tool.pytest] and [tool.pytest.ini_options]'; keep one table (the
native [tool.pytest] is typed: addopts must be a list)
"""

from __future__ import annotations

from collections.abc import Iterator

from fleetshift.recipes import _pytest_config as pc
from fleetshift.recipes.base import config_kind
from fleetshift.recipes.pytest9.rules import CUSTOMIZE
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="9.0", link=CUSTOMIZE, order=15)


def check_config(path: str, text: str) -> Iterator[tuple[int, str]]:
    """Both pytest tables in one pyproject.toml."""
    if config_kind(path) == "pyproject.toml":
        found = pc.sections(path, text)
        if "tool.pytest" in found and "tool.pytest.ini_options" in found:
            yield pc.line_of(text, "[tool.pytest"), "both pytest tables"


def fix_config(path: str, text: str) -> tuple[str, list[tuple[int, str]]]:
    """Nothing to rewrite; a string `addopts` in the native (typed) table is reported."""
    conf = pc.read(path, text)
    if conf is not None and conf.native and isinstance(conf.get("addopts"), str):
        message = (
            "the native pytest TOML table is typed: addopts must be a list of strings (TypeError otherwise)"
        )
        return text, [(pc.line_of(text, "addopts"), message)]
    return text, []
