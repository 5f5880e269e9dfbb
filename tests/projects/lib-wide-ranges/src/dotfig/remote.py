"""load_remote(): fetch env text from a secrets endpoint, retried with tenacity (extra `retry`)."""
from dotfig.fields import load_text

try:
    from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential
except ImportError:  # pragma: no cover - the extra is not installed
    retry = None


def load_remote(cls, fetch, attempts=3, max_wait=5.0, sleep=None):
    if retry is None:
        raise RuntimeError("load_remote needs tenacity: pip install 'dotfig[retry]'")
    options = dict(
        stop=stop_after_attempt(attempts),
        wait=wait_exponential(multiplier=0.2, max=max_wait),
        retry=retry_if_exception_type((OSError, TimeoutError)),
        reraise=True,
    )
    if sleep is not None:
        options["sleep"] = sleep

    @retry(**options)
    def _fetch():
        return fetch()

    return load_text(cls, _fetch())
