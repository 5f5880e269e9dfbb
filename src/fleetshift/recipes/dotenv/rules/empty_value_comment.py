"""`KEY= # comment` parses as an empty value

python-dotenv 1.2.4 reads `KEY= # comment` as '' (it was '# comment'); quote the value if the text was
meant
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="1.2.4", order=7)

EMPTY_WITH_COMMENT = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][\w.-]*)\s*=[ \t]+#")


def env_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, message) for every `KEY= # comment` line of a .env file."""
    for number, line in enumerate(text.splitlines(), 1):
        m = EMPTY_WITH_COMMENT.match(line)
        if m:
            yield (
                number,
                (
                    f"{m.group(1)}: `{line.strip()}` reads as '' since python-dotenv 1.2.4 (it was the comment text); "
                    "quote the value if the text was meant"
                ),
            )
