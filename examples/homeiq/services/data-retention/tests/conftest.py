import pytest
from homeiq_common.testing import influxdb  # noqa: F401
from homeiq_common.testing.fixtures import TEST_TOKEN


def set_influx_env(monkeypatch, url, token=TEST_TOKEN, database="home"):
    """The deployment's InfluxDB variables: the INFLUXDB_V2_* names and, for the migration window, the
    INFLUX_* names newer clients read."""
    for name, value in {"URL": url, "TOKEN": token, "ORG": "homeiq"}.items():
        monkeypatch.setenv(f"INFLUXDB_V2_{name}", value)
    for name, value in {"HOST": url, "TOKEN": token, "ORG": "homeiq", "DATABASE": database}.items():
        monkeypatch.setenv(f"INFLUX_{name}", value)


@pytest.fixture
def influx_env(monkeypatch, influxdb):
    set_influx_env(monkeypatch, influxdb.url)
    return influxdb
