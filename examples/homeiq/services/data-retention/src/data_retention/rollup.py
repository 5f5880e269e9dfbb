"""Hourly rollups of raw numeric history."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS
from tenacity import retry, stop_after_attempt, wait_exponential

log = logging.getLogger(__name__)

HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Sample:
    entity_id: str
    time: datetime
    value: float


def _give_up(retry_state) -> list:
    log.warning("InfluxDB unreachable after %d attempts; skipping this run", retry_state.attempt_number)
    return []


class RollupJob:
    def __init__(self, client: InfluxDBClient, source_bucket: str, target_bucket: str) -> None:
        self.client = client
        self.source_bucket = source_bucket
        self.target_bucket = target_bucket

    @retry(stop=stop_after_attempt(3), wait=wait_exponential(multiplier=0.01, max=0.05),
           retry_error_callback=_give_up)
    def fetch(self, measurement: str, field: str, hours: int) -> list[Sample]:
        flux = f'''
            from(bucket: "{self.source_bucket}")
              |> range(start: -{hours}h)
              |> filter(fn: (r) => r._measurement == "{measurement}")
              |> filter(fn: (r) => r._field == "{field}")
        '''
        tables = self.client.query_api().query(flux)
        return [
            Sample(record.values["entity_id"], record.get_time(), float(record.get_value()))
            for table in tables
            for record in table.records
        ]

    @staticmethod
    def aggregate(samples: list[Sample]) -> dict[tuple[str, datetime], list[float]]:
        buckets: dict[tuple[str, datetime], list[float]] = defaultdict(list)
        for sample in samples:
            hour = sample.time.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)
            buckets[(sample.entity_id, hour)].append(sample.value)
        return dict(buckets)

    def run(self, measurement: str = "ha_state", field: str = "value", hours: int = 24) -> int:
        """Write one ``<measurement>_hourly`` record per entity and hour of the last *hours*; return how many."""
        samples = self.fetch(measurement, field, hours)
        records = [
            {
                "measurement": f"{measurement}_hourly",
                "tags": {"entity_id": entity_id},
                "fields": {"mean": sum(v) / len(v), "min": min(v), "max": max(v), "count": len(v)},
                "time": hour,
            }
            for (entity_id, hour), v in sorted(self.aggregate(samples).items())
        ]
        if records:
            self.client.write_api(write_options=SYNCHRONOUS).write(bucket=self.target_bucket, record=records)
        return len(records)
