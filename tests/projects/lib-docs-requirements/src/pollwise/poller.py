"""The Poller: a thin, typed layer over tenacity's retry decorator."""
from __future__ import annotations

import functools
import logging
from typing import Any, Callable, Dict, Optional, TypeVar

from tenacity import (
    RetryError,
    before_sleep_log,
    retry,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from pollwise.errors import GaveUp, TransientError

log = logging.getLogger("pollwise")

T = TypeVar("T")


class Poller:
    """Retry `fn` on TransientError with exponential backoff, then raise GaveUp."""

    def __init__(self, attempts: int = 5, multiplier: float = 0.5, max_wait: float = 8.0,
                 sleep: Optional[Callable[[float], None]] = None) -> None:
        self.attempts = attempts
        self.multiplier = multiplier
        self.max_wait = max_wait
        self._sleep = sleep
        self._last_stats: Dict[str, Any] = {}

    def _decorate(self, fn: Callable[..., T]) -> Callable[..., T]:
        kwargs: Dict[str, Any] = dict(
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential(multiplier=self.multiplier, min=0, max=self.max_wait),
            retry=retry_if_exception_type(TransientError),
            before_sleep=before_sleep_log(log, logging.DEBUG),
        )
        if self._sleep is not None:
            kwargs["sleep"] = self._sleep
        return retry(**kwargs)(fn)

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        wrapped = self._decorate(fn)
        try:
            return wrapped(*args, **kwargs)
        except RetryError as err:
            attempt = err.last_attempt
            raise GaveUp(attempt.attempt_number, attempt.exception()) from err
        finally:
            # tenacity 8: the statistics live on the Retrying object behind `.retry`
            self._last_stats = dict(wrapped.retry.statistics)

    @property
    def stats(self) -> Dict[str, Any]:
        """tenacity's statistics of the last call (attempt_number, idle_for, ...)."""
        return self._last_stats


def poll(attempts: int = 5, multiplier: float = 0.5, max_wait: float = 8.0):
    """Decorator form: ``@poll(attempts=3)``."""

    def decorator(fn):
        poller = Poller(attempts=attempts, multiplier=multiplier, max_wait=max_wait)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            return poller.call(fn, *args, **kwargs)

        wrapper.poller = poller  # type: ignore[attr-defined]
        return wrapper

    return decorator
