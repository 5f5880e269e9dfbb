class TransientError(Exception):
    """The endpoint failed in a way worth retrying (timeouts, 5xx, resets)."""


class NotReady(TransientError):
    """The endpoint answered, but the resource is not ready yet."""


class GaveUp(Exception):
    """Raised when every attempt failed; `attempts` says how many were made."""

    def __init__(self, attempts, last):
        super().__init__(f"gave up after {attempts} attempts: {last!r}")
        self.attempts = attempts
        self.last = last
