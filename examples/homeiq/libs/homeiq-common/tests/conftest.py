from homeiq_common.testing import influxdb, mosquitto  # noqa: F401
