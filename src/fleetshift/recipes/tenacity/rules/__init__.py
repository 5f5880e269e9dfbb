"""What tenacity changed between 8.2 and 9.x: one module per rule, and the releases to avoid."""

from __future__ import annotations

from fleetshift.recipes.base import Advisory
from fleetshift.recipes.rule import discover

RECIPE_ID = "tenacity"

CHANGELOG = "https://tenacity.readthedocs.io/en/latest/changelog.html"
PR = "https://github.com/jd/tenacity/pull/"
LINK = CHANGELOG


ADVISORIES = (
    Advisory("==8.4.0", "broken wheel: `import tenacity` fails with No module named 'tenacity.asyncio'; never pin 8.4.0", f"{PR}474"),
    Advisory(
        ">=9.0,<9.2",
        "`retry_strategy | plain_function` (and `&`) raises AttributeError on 8.4.x-9.1.4 (fixed in 9.2); "
        "the recipe rewrites such compositions to retry_any()/retry_all(), which work on every version",
        f"{PR}606",
    ),
    Advisory(">=9.1.3", "needs Python >=3.10; a service still on Python 3.9 stops at 9.1.2", CHANGELOG),
)  # fmt: skip

# every rule module of this package, in listing order
RULES = tuple(m.rule for m in discover(__name__))
