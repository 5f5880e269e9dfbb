import pytest

from relay.mapping import map_topic, normalise


@pytest.mark.parametrize(
    "topic, expected",
    [
        ("sensors/kitchen/temp", "relay/kitchen/temp"),
        ("garage/door", "relay/garage/door"),
    ],
)
def test_map_topic(topic, expected):
    assert map_topic(topic, "relay") == expected


def test_normalise_number():
    assert normalise(b" 21.5 ") == b'{"value": 21.5}'


def test_normalise_rejects_text():
    with pytest.raises(ValueError):
        normalise(b"hello")
