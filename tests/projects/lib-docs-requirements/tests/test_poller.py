import pytest

import pollwise
from pollwise import GaveUp, NotReady, TransientError, poll


class Flaky:
    def __init__(self, failures, exc=TransientError):
        self.failures = failures
        self.exc = exc
        self.calls = 0

    def __call__(self):
        self.calls += 1
        if self.calls <= self.failures:
            raise self.exc(f"attempt {self.calls}")
        return "ok"


def test_version():
    assert pollwise.__version__ == "1.4.2"


def test_succeeds_after_transient_failures(poller, no_sleep):
    slept, _ = no_sleep
    fn = Flaky(failures=2)
    assert poller.call(fn) == "ok"
    assert fn.calls == 3
    # wait_exponential(multiplier=1, max=3): 1, 2 seconds between the three attempts
    assert slept == [1, 2]


def test_not_ready_is_transient(poller):
    fn = Flaky(failures=1, exc=NotReady)
    assert poller.call(fn) == "ok"


def test_gives_up(poller, no_sleep):
    slept, _ = no_sleep
    fn = Flaky(failures=10)
    with pytest.raises(GaveUp) as info:
        poller.call(fn)
    assert info.value.attempts == 4
    assert isinstance(info.value.last, TransientError)
    assert slept == [1, 2, 3]


def test_other_errors_are_not_retried(poller):
    fn = Flaky(failures=1, exc=KeyError)
    with pytest.raises(KeyError):
        poller.call(fn)
    assert fn.calls == 1


def test_stats_is_a_dict(poller):
    poller.call(Flaky(failures=0))
    assert isinstance(poller.stats, dict)


def test_decorator_form(monkeypatch):
    calls = []

    @poll(attempts=2, multiplier=0)
    def ping():
        calls.append(1)
        if len(calls) < 2:
            raise TransientError("boom")
        return 204

    assert ping() == 204
    assert len(calls) == 2
