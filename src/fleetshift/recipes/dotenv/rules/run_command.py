"""`dotenv.cli.run_command` now execs (returns None instead of an exit code)

stop relying on run_command's return value; on POSIX it replaces the process
"""

from __future__ import annotations

import ast

from fleetshift.recipes._ast import Imports
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="1.1.0", order=3)


MATCHES = (ast.ImportFrom, ast.Attribute)  # the only nodes `match` reports (see `DotenvRecipe` `_sites`)


def match(node: ast.AST, imports: Imports) -> str | None:
    """An import or use of `dotenv.cli.run_command`."""
    if isinstance(node, ast.ImportFrom) and node.module == "dotenv.cli":
        return "" if any(a.name == "run_command" for a in node.names) else None
    if isinstance(node, ast.Attribute) and node.attr == "run_command":
        return "" if imports.qualname(node) == "dotenv.cli.run_command" else None
    return None
