import asyncio

import pytest
from asyncio_mqtt import Client
from influxdb_client import InfluxDBClient

from mqtt2influx.bridge import Bridge, settings, to_point


class RecordingWrites:
    def __init__(self):
        self.calls = []

    def write(self, bucket, record, **kwargs):
        self.calls.append((bucket, record.to_line_protocol()))


@pytest.fixture
def conf(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("INFLUX_BUCKET=lab\nMQTT_PORT=1884\n")
    for key in ("INFLUX_BUCKET", "MQTT_PORT"):
        monkeypatch.delenv(key, raising=False)
    yield settings()
    for key in ("INFLUX_BUCKET", "MQTT_PORT"):
        monkeypatch.delenv(key, raising=False)


def test_settings_from_dotenv(conf):
    assert conf["bucket"] == "lab"
    assert conf["mqtt_port"] == 1884


def test_to_point():
    assert to_point("home/kitchen/temperature", b"21.5").to_line_protocol() == "home,room=kitchen temperature=21.5"
    assert to_point("home/kitchen", b"1") is None
    assert to_point("home/kitchen/door", b"open") is None


def test_bridge_writes_numeric_messages(conf):
    bridge = Bridge(conf)
    assert isinstance(bridge.influx, InfluxDBClient)
    assert isinstance(bridge.mqtt, Client)
    bridge.write_api = RecordingWrites()
    assert bridge.handle("home/hall/humidity", b"55")
    assert not bridge.handle("home/hall/humidity", b"n/a")
    assert bridge.write_api.calls == [("lab", "home,room=hall humidity=55")]
    bridge.influx.close()


async def test_handle_from_the_loop(conf):
    bridge = Bridge(conf)
    bridge.write_api = RecordingWrites()
    loop = asyncio.get_running_loop()
    ok = await loop.run_in_executor(None, bridge.handle, "home/attic/temperature", b"30")
    assert ok and bridge.written == 1
    bridge.influx.close()
