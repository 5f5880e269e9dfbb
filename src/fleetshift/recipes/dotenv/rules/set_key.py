"""set_key/unset_key no longer follow symlinks and keep the file mode

since python-dotenv 1.2.2 set_key/unset_key write to a symlink itself unless follow_symlinks=True (a
TypeError before 1.2.2), and keep the file's mode instead of resetting it to 0600; check symlinked .env
files and secrets' permissions
"""

from __future__ import annotations

import ast

from fleetshift.recipes._ast import Imports, keyword
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="1.2.2", order=5)

SET_KEY_CALLS = {"dotenv.set_key", "dotenv.unset_key", "dotenv.main.set_key", "dotenv.main.unset_key"}


MATCHES = (ast.Call,)  # the only nodes `match` reports (see `DotenvRecipe` `_sites`)


def match(node: ast.AST, imports: Imports) -> str | None:
    """A set_key/unset_key call that does not say whether to follow symlinks."""
    if isinstance(node, ast.Call) and imports.qualname(node.func) in SET_KEY_CALLS:
        return "" if keyword(node, "follow_symlinks") is None else None
    return None
