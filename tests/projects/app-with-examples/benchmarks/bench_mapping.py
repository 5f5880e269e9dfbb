from relay.mapping import map_topic, normalise


def test_map_topic(benchmark):
    benchmark(map_topic, "sensors/kitchen/fridge/temp", "relay")


def test_normalise(benchmark):
    benchmark(normalise, b'{"value": 4.5, "unit": "C"}')
