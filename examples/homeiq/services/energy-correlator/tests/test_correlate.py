from energy_correlator.correlate import Correlation, Correlator


def test_event_followed_by_power_jump():
    c = Correlator(threshold_watts=20, window_ms=5000)
    assert c.power_reading("kitchen.meter", 100.0, 0) is None
    c.device_event("kitchen.kettle", "on", 1000)
    assert c.power_reading("kitchen.meter", 2100.0, 1500) == Correlation(
        "kitchen.kettle", "kitchen.meter", "on", 2000.0, 500
    )


def test_small_changes_and_stale_events_are_ignored():
    c = Correlator(threshold_watts=20, window_ms=1000)
    c.power_reading("m", 100.0, 0)
    c.device_event("d", "on", 0)
    assert c.power_reading("m", 110.0, 500) is None
    assert c.power_reading("m", 500.0, 5000) is None
