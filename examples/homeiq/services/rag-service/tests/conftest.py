from homeiq_common.testing import mosquitto  # noqa: F401
