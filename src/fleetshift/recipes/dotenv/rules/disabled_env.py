"""PYTHON_DOTENV_DISABLED=1/true/yes turns load_dotenv() into a no-op

make sure PYTHON_DOTENV_DISABLED is set only where loading .env should be skipped
"""

from __future__ import annotations

import ast

from fleetshift.recipes._ast import Imports
from fleetshift.recipes.rule import INFO, rule

RULE = rule(__name__, __doc__, INFO, since="1.2.0", order=4)


MATCHES = (ast.Constant,)  # the only nodes `match` reports (see `DotenvRecipe` `_sites`)


def match(node: ast.AST, imports: Imports) -> str | None:
    """A string naming the variable (one a BOM workaround already reports is left to that rule)."""
    if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
        return None
    if "\ufeff" in node.value and imports.imports_module("dotenv"):
        return None
    return "" if node.value.startswith("PYTHON_DOTENV_DISABLED") else None
