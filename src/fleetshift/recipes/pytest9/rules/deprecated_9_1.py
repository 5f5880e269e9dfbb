"""API deprecated in pytest 9.1 or removed

config.inicfg, --pastebin and pytest.console_main are deprecated in pytest 9.1; use config.getini(),
drop --pastebin, call pytest.main()
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from fleetshift.recipes import _pytest_config as pc
from fleetshift.recipes._ast import dotted
from fleetshift.recipes.pytest9.facts import Facts, Site
from fleetshift.recipes.pytest9.rules import DEPRECATIONS
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="9.1", link=DEPRECATIONS, order=18)
NEEDS = (("console_main", "inicfg"),)

CONFIG_NAMES = ("config", "pytestconfig", "_config")


def check(facts: Facts) -> Iterator[Site]:
    """`pytest.console_main`, and `config.inicfg` on a pytest config object."""
    if not facts.names("console_main", "inicfg"):
        return
    for node in facts.of(ast.Attribute):
        if node.attr == "console_main" and facts.imports.qualname(node) == "pytest.console_main":
            yield node, ""
        elif node.attr == "inicfg" and isinstance(node.value, (ast.Name, ast.Attribute)):
            if (dotted(node.value) or "").split(".")[-1] in CONFIG_NAMES:
                yield node, ""


def check_config(path: str, text: str) -> Iterator[tuple[int, str]]:
    """`--pastebin` in addopts."""
    conf = pc.read(path, text)
    if conf is not None and any(a.startswith("--pastebin") for a in conf.args()):
        yield pc.line_of(text, "--pastebin"), "--pastebin in addopts"
