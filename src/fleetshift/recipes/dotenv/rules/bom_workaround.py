r"""a UTF-8 BOM is stripped from .env files

python-dotenv 1.2.3 strips a leading BOM, so the first key no longer starts with '\ufeff'; drop code that
looks keys up with the BOM
"""

from __future__ import annotations

import ast

from fleetshift.recipes._ast import Imports
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="1.2.3", order=6)


MATCHES = (ast.Constant,)  # the only nodes `match` reports (see `DotenvRecipe` `_sites`)


def match(node: ast.AST, imports: Imports) -> str | None:
    """A string holding a BOM in a module that uses python-dotenv."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and "\ufeff" in node.value:
        return "" if imports.imports_module("dotenv") else None
    return None
