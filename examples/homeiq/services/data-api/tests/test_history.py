import pytest

pytestmark = pytest.mark.integration


def test_entity_history_is_sorted_and_filtered(history):
    points = history.entity_history("sensor.kitchen_temperature")
    assert [p.value for p in points] == [20.5, 21.0]
    assert {p.entity_id for p in points} == {"sensor.kitchen_temperature"}
    assert points[0].time < points[1].time
    assert points[0].time.tzinfo is not None


@pytest.mark.parametrize("minutes, expected", [(60, 2), (10, 1)], False, ["last-hour", "last-10-minutes"])
def test_range_start(history, minutes, expected):
    assert len(history.entity_history("sensor.kitchen_temperature", minutes=minutes)) == expected


def test_entity_id_is_a_query_parameter_not_flux_text(history):
    assert history.entity_history('sensor.kitchen_temperature" or r.entity_id != "') == []


def test_power_by_entity_averages_watts(history):
    assert history.power_by_entity() == {"light.hall": 9.5, "switch.kettle": 2000.0}
