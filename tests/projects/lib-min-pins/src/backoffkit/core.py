from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable

from dotenv import dotenv_values
from tenacity import retry, stop_after_attempt, wait_none


@dataclass(frozen=True)
class Settings:
    attempts: int = 3

    @classmethod
    def from_env(cls, path: str | os.PathLike[str] | None = None) -> "Settings":
        values = dotenv_values(path) if path else {}
        return cls(attempts=int(values.get("BACKOFF_ATTEMPTS") or os.environ.get("BACKOFF_ATTEMPTS", 3)))


def retrying(settings: Settings) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return retry(stop=stop_after_attempt(settings.attempts), wait=wait_none(), reraise=True)


def attempts_of(fn: Any) -> int:
    """How many attempts the last call of a `retrying` function made."""
    return fn.retry.statistics.get("attempt_number", 0)
