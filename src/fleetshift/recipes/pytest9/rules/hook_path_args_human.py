"""py.path hook argument used in a way pathlib does not support

the hook argument is removed in pytest 9.1 (PluginValidationError) and its replacement is a
pathlib.Path: port .check()/.join()/.fnmatch()/... to pathlib by hand
"""

from __future__ import annotations

from collections.abc import Iterator

from fleetshift.recipes.pytest9.facts import Facts, Site
from fleetshift.recipes.pytest9.rules import HOOK_ARGS, PY_PATH
from fleetshift.recipes.pytest9.rules.hook_path_args import hooks
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="9.1", link=PY_PATH, order=1)
NEEDS = ((*HOOK_ARGS,),)  # the hook's name


def check(facts: Facts) -> Iterator[Site]:
    """A hook whose py.path argument is used in a way pathlib has no twin for (hook-path-args leaves it)."""
    for node, old, bad in hooks(facts):
        if bad:
            new = HOOK_ARGS[node.name][1]
            yield (
                node,
                (
                    f"{node.name}({old}): pytest 9.1 removes the py.path argument `{old}`; use `{new}` "
                    f"(pathlib.Path) — not rewritten because of {', '.join(sorted(set(bad)))}"
                ),
            )
