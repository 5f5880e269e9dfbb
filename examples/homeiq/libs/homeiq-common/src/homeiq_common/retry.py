"""The platform's standard retry policy for calls to the broker, InfluxDB and HTTP peers."""

from __future__ import annotations

import logging
from typing import Callable, TypeVar

from tenacity import (
    before_sleep_log,
    retry,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

log = logging.getLogger("homeiq.retry")

F = TypeVar("F", bound=Callable[..., object])

#: Exceptions that are worth another attempt: the peer may come back.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (ConnectionError, TimeoutError)


def transient_retry(attempts: int = 3, max_wait: float = 0.05) -> Callable[[F], F]:
    """Retry a sync or async callable on transient errors, then re-raise the last error."""
    return retry(  # type: ignore[return-value]
        stop=stop_after_attempt(attempts),
        wait=wait_exponential(multiplier=0.01, max=max_wait),
        retry=retry_if_exception_type(TRANSIENT_ERRORS),
        before_sleep=before_sleep_log(log, logging.WARNING),
        reraise=True,
    )


def attempts_made(fn: Callable[..., object]) -> int:
    """Return how many attempts the last call of a ``@transient_retry`` function took."""
    return int(fn.retry.statistics.get("attempt_number", 0))  # type: ignore[attr-defined]
