from datetime import datetime, timezone

import pytest
from freezegun import freeze_time
from influxdb_client import InfluxDBClient

from gridlogger.writer import reading_point, write_health

from .conftest import RecordingWriteApi


def test_line_protocol():
    when = datetime(2024, 3, 1, 12, 0, tzinfo=timezone.utc)
    line = reading_point("north", "M-17", 3, 229.5, when).to_line_protocol()
    assert line == "grid,meter=M-17,site=north kw=3,voltage=229.5 1709294400"


@freeze_time("2024-01-02T03:04:05Z")
def test_default_time_is_now():
    assert reading_point("s", "m", 1, 2).to_line_protocol().endswith(" 1704164645")


def test_client_is_configured(client):
    assert isinstance(client, InfluxDBClient)
    assert client.url == "http://127.0.0.1:9"
    assert client.org == "grid"


def test_write_retries(writer):
    writer.write_api = RecordingWriteApi(failures=2)
    assert writer.write([reading_point("s", "m", 1, 230)]) == 1
    assert writer.write_api.records[0][0] == "meters"
    assert write_health()["attempt_number"] == 3


@pytest.mark.asyncio
async def test_write_async(writer):
    assert await writer.write_async([reading_point("s", "m", 1, 230), reading_point("s", "n", 2, 231)]) == 2


@pytest.mark.integration
def test_daily_kwh_against_a_real_server(writer):
    assert writer.daily_kwh("north") is not None
