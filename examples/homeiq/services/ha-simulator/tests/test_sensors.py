import random

from ha_simulator.sensors import DEFAULT_SENSORS


def test_topics_follow_the_platform_layout():
    assert [s.topic for s in DEFAULT_SENSORS] == [
        "homeiq/sensors/kitchen/temperature",
        "homeiq/sensors/bedroom/humidity",
        "homeiq/power/kitchen/fridge",
        "homeiq/power/office/desk",
    ]


def test_values_are_deterministic_for_a_seed():
    first = [s.value_at(720, random.Random(1)) for s in DEFAULT_SENSORS]
    second = [s.value_at(720, random.Random(1)) for s in DEFAULT_SENSORS]
    assert first == second
    assert 18.0 < first[0] < 24.0
