import pytest

from pollwise import Poller


@pytest.fixture
def no_sleep():
    slept = []
    return slept, slept.append


@pytest.fixture
def poller(no_sleep):
    slept, sleep = no_sleep
    return Poller(attempts=4, multiplier=1, max_wait=3, sleep=sleep)
