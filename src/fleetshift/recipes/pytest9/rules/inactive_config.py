"""pytest settings in a config file pytest does not read

pytest reads only the first config file and prints 'ignoring pytest config in ...' from 9.0; merge the
settings into the active file
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from fleetshift.recipes import _pytest_config as pc
from fleetshift.recipes.pytest9.rules import CUSTOMIZE
from fleetshift.recipes.rule import INFO, rule

RULE = rule(__name__, __doc__, INFO, since="9.0", link=CUSTOMIZE, order=16)


def check_service(files: Mapping[str, str], root: str) -> Iterator[tuple[str, int, str]]:
    """Config files beside the active one that hold pytest settings pytest will ignore."""
    found = pc.candidates(files, root)
    if not found:
        return
    act = found[0]
    for other in found[1:]:
        if other.path.rsplit("/", 1)[0] == act.path.rsplit("/", 1)[0] and other.values:
            yield (
                other.path,
                0,
                f"pytest reads only {act.path}; the settings in {other.path} are ignored (pytest 9 says "
                "'ignoring pytest config'): merge them into the active file",
            )
