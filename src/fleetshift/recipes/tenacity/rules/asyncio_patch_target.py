"""a patch target names `tenacity._asyncio`, which no longer exists

tenacity._asyncio was removed in 8.4; patch "asyncio.sleep" or pass sleep= to AsyncRetrying
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from fleetshift.recipes.rule import HUMAN, rule
from fleetshift.recipes.tenacity.resolve import Facts
from fleetshift.recipes.tenacity.rules.asyncio_module import patch_targets

RULE = rule(__name__, __doc__, HUMAN, since="8.4.0", link="https://github.com/jd/tenacity/pull/451", order=1)


def check(facts: Facts) -> Iterator[tuple[ast.AST, str]]:
    """A string naming something inside `tenacity._asyncio` (a `mock.patch` target, most often) and a patch
    of the module object, that the asyncio-module rule cannot point at `tenacity.asyncio` (`sleep`, or a name
    that module does not have)."""
    if not facts.tenacity:
        return  # no tenacity name without tenacity written
    moved = {id(p.node) for p in patch_targets(facts) if p.movable}
    for patch in patch_targets(facts):
        if not patch.movable and not isinstance(patch.node, ast.Constant):
            names = ", ".join(f'"{n}"' for n in patch.names) or "an attribute"
            yield (
                patch.node,
                f"tenacity._asyncio was removed in 8.4; patching {names} on `{ast.unparse(patch.node)}` no longer "
                'works — patch "asyncio.sleep" or pass sleep= to AsyncRetrying.',
            )
    for node in facts.nodes(ast.Constant):
        assert isinstance(node, ast.Constant)
        if (
            isinstance(node.value, str)
            and node.value.startswith("tenacity._asyncio")
            and id(node) not in moved
        ):
            yield (
                node,
                f'tenacity._asyncio was removed in 8.4; patch target "{node.value}" no longer exists — '
                'patch "asyncio.sleep" or pass sleep= to AsyncRetrying.',
            )
