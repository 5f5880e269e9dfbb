"""pytest.importorskip without exc_type

from pytest 9.1 importorskip skips only on ModuleNotFoundError and fails the test on any other
ImportError; pass exc_type=ImportError to keep the old behaviour or exc_type=ModuleNotFoundError to
accept the new one
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from fleetshift.recipes._ast import keyword
from fleetshift.recipes.pytest9.facts import Facts, Site
from fleetshift.recipes.pytest9.rules import DEPRECATIONS
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="9.1", link=DEPRECATIONS, order=3)
NEEDS = (("importorskip",),)


def check(facts: Facts) -> Iterator[Site]:
    """`pytest.importorskip(...)` that does not say which import errors skip."""
    if not facts.names("importorskip"):  # the attribute's name, or the name an import binds to it
        return
    for node in facts.of(ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr != "importorskip":  # its qualname ends with its attr
            continue
        if facts.imports.qualname(func) == "pytest.importorskip" and keyword(node, "exc_type") is None:
            yield node, ""
