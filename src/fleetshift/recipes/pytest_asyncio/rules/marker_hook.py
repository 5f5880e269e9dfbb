"""conftest hook that adds asyncio markers

tests may be marked by a pytest_collection_modifyitems hook; no markers are added in this service
"""

from __future__ import annotations

from collections.abc import Iterator

from fleetshift.recipes.pytest_asyncio.facts import ModuleFacts, Site
from fleetshift.recipes.pytest_asyncio.rules import MIGRATE_023
from fleetshift.recipes.rule import INFO, rule

RULE = rule(__name__, __doc__, INFO, since="0.23", link=MIGRATE_023, order=13)
NEEDS = (("add_marker",), ("is_async_test", "asyncio"))  # what `check` reads in the text


def check(facts: ModuleFacts) -> Iterator[Site]:
    """A conftest.py that adds markers and mentions asyncio (the survey then adds none in the service)."""
    text = facts.text
    if facts.kind == "conftest" and "add_marker" in text and ("is_async_test" in text or "asyncio" in text):
        yield Site(1)
