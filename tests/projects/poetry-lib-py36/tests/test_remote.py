import pytest

from settle import fetch_remote
from settle.remote import RemoteUnavailable


def test_fetch_remote_retries():
    calls = []
    slept = []

    def loader():
        calls.append(1)
        if len(calls) < 3:
            raise RemoteUnavailable()
        return "TOKEN=abc\n"

    s = fetch_remote(loader, attempts=3, sleep=slept.append, environ={})
    assert s["TOKEN"] == "abc"
    assert len(calls) == 3
    assert slept == [0.5, 1.0]


def test_fetch_remote_reraises():
    def loader():
        raise RemoteUnavailable("down")

    with pytest.raises(RemoteUnavailable):
        fetch_remote(loader, attempts=2, sleep=lambda s: None, environ={})
