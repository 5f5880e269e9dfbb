import asyncio
from datetime import datetime, timezone

from influxdb_client import InfluxDBClient, Point, WritePrecision
from influxdb_client.client.write_api import SYNCHRONOUS
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential
from urllib3.exceptions import HTTPError


def reading_point(site, serial, kw, voltage, when=None):
    return (
        Point("grid")
        .tag("site", site)
        .tag("meter", serial)
        .field("kw", float(kw))
        .field("voltage", float(voltage))
        .time(when or datetime.now(timezone.utc), WritePrecision.S)
    )


def make_client(settings):
    return InfluxDBClient(url=settings["url"], token=settings["token"], org=settings["org"], timeout=10_000)


class GridWriter:
    def __init__(self, client, bucket):
        self.client = client
        self.bucket = bucket
        self.write_api = client.write_api(write_options=SYNCHRONOUS)

    @retry(stop=stop_after_attempt(4), wait=wait_exponential(multiplier=0.01, max=0.1),
           retry=retry_if_exception_type(HTTPError))
    def write(self, points):
        self.write_api.write(bucket=self.bucket, record=points, write_precision=WritePrecision.S)
        return len(points)

    async def write_async(self, points):
        return await asyncio.get_running_loop().run_in_executor(None, self.write, points)

    def daily_kwh(self, site, days=7):
        flux = f'''
from(bucket: "{self.bucket}")
  |> range(start: -{days}d)
  |> filter(fn: (r) => r._measurement == "grid" and r.site == "{site}" and r._field == "kw")
  |> aggregateWindow(every: 1d, fn: mean, createEmpty: false)
'''
        tables = self.client.query_api().query(flux, org=self.client.org)
        return [(record.get_time(), record.get_value()) for table in tables for record in table.records]


def write_health():
    return dict(GridWriter.write.retry.statistics)
