"""Fetch settings from a remote source with retries (works with tenacity 6.2 through 8.x)."""
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from .core import Settings


class RemoteUnavailable(Exception):
    pass


def fetch_remote(loader, attempts=3, max_wait=2.0, sleep=None, **settings_kwargs):
    """Call `loader()` (returns env-file text) until it succeeds, then parse it into Settings."""
    kwargs = dict(
        stop=stop_after_attempt(attempts),
        wait=wait_exponential(multiplier=0.5, max=max_wait),
        retry=retry_if_exception_type(RemoteUnavailable),
        reraise=True,
    )
    if sleep is not None:
        kwargs["sleep"] = sleep
    for attempt in Retrying(**kwargs):
        with attempt:
            text = loader()
    return Settings.from_text(text, **settings_kwargs)
