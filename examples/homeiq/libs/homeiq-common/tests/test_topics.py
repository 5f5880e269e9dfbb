import pytest

from homeiq_common import topics


def test_entity_topic_round_trip():
    topic = topics.entity_topic("sensors", "kitchen", "temperature")
    assert topic == "homeiq/sensors/kitchen/temperature"
    parsed = topics.parse_entity_topic(topic)
    assert parsed.entity_id == "kitchen.temperature"
    assert str(parsed) == topic


@pytest.mark.parametrize(
    "topic_filter, topic, expected",
    [
        ("homeiq/sensors/+/temperature", "homeiq/sensors/kitchen/temperature", True),
        ("homeiq/sensors/#", "homeiq/sensors/kitchen/temperature", True),
        ("homeiq/sensors/#", "homeiq/sensors", True),
        ("homeiq/+/kitchen", "homeiq/sensors/kitchen/temperature", False),
        ("#", "$SYS/broker/uptime", False),
    ],
)
def test_matches(topic_filter, topic, expected):
    assert topics.matches(topic_filter, topic) is expected


def test_invalid_levels_are_rejected():
    with pytest.raises(ValueError):
        topics.entity_topic("sensors", "kit+chen", "temperature")
    with pytest.raises(ValueError):
        topics.parse_entity_topic("other/sensors/a/b")
