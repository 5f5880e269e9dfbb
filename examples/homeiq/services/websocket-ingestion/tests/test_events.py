import json

import pytest

from websocket_ingestion.events import parse_event, to_line_protocol


def test_numeric_state_becomes_value_and_state():
    payload = json.dumps({
        "state": "21.5",
        "attributes": {"unit_of_measurement": "°C"},
        "last_changed": "2024-03-01T12:00:00+00:00",
    })
    event = parse_event("sensor", "kitchen_temperature", payload)
    assert to_line_protocol(event) == (
        'ha_state,domain=sensor,entity_id=sensor.kitchen_temperature,unit=°C '
        'value=21.5,state="21.5" 1709294400000000000'
    )


def test_text_state_is_escaped():
    event = parse_event("media_player", "living room", b'{"state": "say \\"hi\\""}')
    line = to_line_protocol(event)
    assert "entity_id=media_player.living\\ room" in line
    assert 'state="say \\"hi\\""' in line
    assert "value=" not in line


def test_event_without_state_is_rejected():
    with pytest.raises(ValueError):
        parse_event("sensor", "x", b"{}")
