from __future__ import annotations

import tenacity
from influxdb_client import InfluxDBClient, Point
from influxdb_client.client.write_api import SYNCHRONOUS


def reading_point(sensor: str, value: float) -> Point:
    return Point("reading").tag("sensor", sensor).field("value", value)


class Store:
    def __init__(self, url: str, token: str, org: str, bucket: str) -> None:
        self.client = InfluxDBClient(url=url, token=token, org=org)
        self.write_api = self.client.write_api(write_options=SYNCHRONOUS)
        self.bucket = bucket

    @tenacity.retry(stop=tenacity.stop_after_attempt(3), wait=tenacity.wait_fixed(0.01), reraise=True)
    def write(self, sensor: str, value: float) -> None:
        self.write_api.write(bucket=self.bucket, record=reading_point(sensor, value))
