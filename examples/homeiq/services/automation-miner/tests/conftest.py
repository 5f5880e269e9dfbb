import pytest

from automation_miner.miner import Event


def pytest_ignore_collect(path, config):
    # tests/data holds exported event logs, some of them named like test modules
    if path.basename == "data":
        return True
    return None


@pytest.fixture
def evening_routine():
    """Ten evenings: the hall light comes on, then the TV within a minute; the fan is random noise."""
    events = []
    for day in range(10):
        base = day * 86400.0
        events.append(Event(base, "light.hall", "on"))
        events.append(Event(base + 45, "media_player.tv", "on"))
        if day % 3 == 0:
            events.append(Event(base + 30, "fan.bedroom", "on"))
    return events
