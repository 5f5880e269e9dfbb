"""pollwise: poll flaky endpoints with exponential backoff."""
from pollwise.__about__ import __version__
from pollwise.errors import GaveUp, NotReady, TransientError
from pollwise.poller import Poller, poll

__all__ = ["GaveUp", "NotReady", "Poller", "TransientError", "__version__", "poll"]
