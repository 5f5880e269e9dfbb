"""wide autouse fixtures in test modules with --doctest-modules

with --doctest-modules, module/package/session autouse fixtures defined inside test modules may run
twice from pytest 9.1; move them to conftest.py
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping

from fleetshift.recipes import _pytest_config as pc
from fleetshift.recipes._ast import Imports, parse_tree
from fleetshift.recipes.pytest9.facts import const
from fleetshift.recipes.rule import INFO, rule

RULE = rule(__name__, __doc__, INFO, since="9.1", order=19)


def check_service(files: Mapping[str, str], root: str) -> Iterator[tuple[str, int, str]]:
    """Module/package/session autouse fixtures in test modules, when the active config turns on
    --doctest-modules."""
    act = pc.active(files, root)
    if act is None or "--doctest-modules" not in act.args():
        return
    for path, text in files.items():
        if not pc.is_test_module(path) or "autouse" not in text:
            continue
        try:
            tree = parse_tree(text)
        except SyntaxError:
            continue
        imports = Imports(tree)
        for node in tree.body:
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            call = pc.ast_fixture_call(node, imports)
            if isinstance(call, ast.Call) and const(call, "autouse") is True:
                if const(call, "scope") in ("module", "package", "session"):
                    yield path, node.lineno, ""
