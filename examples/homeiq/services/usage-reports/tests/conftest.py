from datetime import datetime, timedelta, timezone

import pytest
from homeiq_common.testing import influxdb, mosquitto  # noqa: F401
from homeiq_common.testing.fixtures import TEST_TOKEN

from usage_reports.db import InfluxGateway

#: Readings start on the hour, four hours ago: inside every report's range, whenever the tests run.
START = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(hours=4)


def seed_lines(start: datetime = START) -> str:
    base = int(start.timestamp())
    lines = []
    for k in range(24):  # every 10 minutes for four hours
        t = base + k * 600
        lines.append(f"climate,room=kitchen celsius={20.0 + k * 0.25},humidity={45.0 + k % 5} {t}")
        lines.append(f"climate,room=office celsius={18.5 + k * 0.5},humidity={40.0 + k % 3} {t + 1}")
        lines.append(f"power,circuit=main watts={250.0 + 10 * (k % 6)} {t + 2}")
        lines.append(f"power,circuit=heat watts={1500.0 - 20 * k} {t + 3}")
    return "\n".join(lines)


@pytest.fixture
def db(influxdb):
    influxdb.write_line_protocol("home", seed_lines(), "s")
    gateway = InfluxGateway(url=influxdb.url, token=TEST_TOKEN, org="homeiq", bucket="home")
    yield gateway
    gateway.close()
