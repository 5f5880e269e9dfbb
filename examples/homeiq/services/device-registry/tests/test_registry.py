import json

from device_registry.registry import Registry


def discovery(identifier, unique_id, manufacturer="Shelly"):
    return json.dumps({
        "unique_id": unique_id,
        "device": {"identifiers": [identifier], "name": identifier.upper(), "manufacturer": manufacturer},
    }).encode()


def test_entities_are_grouped_by_device():
    registry = Registry()
    registry.apply("sensor", "plug_power", discovery("plug-1", "plug_power"))
    device = registry.apply("switch", "plug_relay", discovery("plug-1", "plug_relay"))
    assert device.entities == {"plug_power": "sensor", "plug_relay": "switch"}
    assert list(registry.devices) == ["plug-1"]


def test_empty_payload_removes_entity_and_device():
    registry = Registry()
    registry.apply("sensor", "t1", discovery("thermo", "t1"))
    registry.apply("sensor", "t1", b"")
    assert registry.devices == {}
