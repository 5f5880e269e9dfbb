import pytest

from tests.conftest import FakeProvider
from weather_api.provider import fetch_current, last_fetch_attempts


def test_metrics_are_formatted(provider):
    assert fetch_current(provider, "cabin").metrics() == {
        "temperature": "3.2", "humidity": "71", "wind": "4.0", "condition": "cloudy"}


def test_provider_hiccups_are_retried():
    flaky = FakeProvider(failures=2)
    assert fetch_current(flaky, "home").condition == "cloudy"
    assert last_fetch_attempts() == 3


def test_provider_outage_is_raised():
    with pytest.raises(ConnectionResetError):
        fetch_current(FakeProvider(failures=5), "home")
    assert fetch_current.statistics["attempt_number"] == 3
