import logging
import os
from typing import Optional

from asyncio_mqtt import Client as MqttClient
from asyncio_mqtt import MqttError
from dotenv import find_dotenv, load_dotenv
from influxdb_client import InfluxDBClient, Point
from influxdb_client.client.write_api import SYNCHRONOUS

log = logging.getLogger(__name__)


def settings() -> dict:
    load_dotenv(find_dotenv(usecwd=True))
    return {
        "mqtt_host": os.getenv("MQTT_HOST", "localhost"),
        "mqtt_port": int(os.getenv("MQTT_PORT", "1883")),
        "topic": os.getenv("MQTT_TOPIC", "home/+/+"),
        "influx_url": os.getenv("INFLUX_URL", "http://localhost:8086"),
        "influx_token": os.getenv("INFLUX_TOKEN", ""),
        "influx_org": os.getenv("INFLUX_ORG", "home"),
        "bucket": os.getenv("INFLUX_BUCKET", "sensors"),
    }


def to_point(topic: str, payload: bytes) -> Optional[Point]:
    """home/<room>/<quantity> + b"21.5" -> Point("home").tag("room", ..).field(<quantity>, 21.5)"""
    parts = topic.split("/")
    if len(parts) != 3:
        return None
    try:
        value = float(payload.decode().strip())
    except ValueError:
        return None
    return Point(parts[0]).tag("room", parts[1]).field(parts[2], value)


class Bridge:
    def __init__(self, conf: dict):
        self.conf = conf
        self.influx = InfluxDBClient(url=conf["influx_url"], token=conf["influx_token"], org=conf["influx_org"])
        self.write_api = self.influx.write_api(write_options=SYNCHRONOUS)
        self.mqtt = MqttClient(conf["mqtt_host"], port=conf["mqtt_port"], client_id="mqtt2influx")
        self.written = 0

    def handle(self, topic: str, payload: bytes) -> bool:
        point = to_point(topic, payload)
        if point is None:
            log.debug("skipping %s", topic)
            return False
        self.write_api.write(bucket=self.conf["bucket"], record=point)
        self.written += 1
        return True

    async def run(self):  # pragma: no cover - needs a broker and a database
        try:
            async with self.mqtt as client:
                async with client.filtered_messages(self.conf["topic"]) as messages:
                    await client.subscribe(self.conf["topic"])
                    async for message in messages:
                        self.handle(message.topic, message.payload)
        except MqttError as err:
            log.error("MQTT: %s", err)
            raise
        finally:
            self.influx.close()
