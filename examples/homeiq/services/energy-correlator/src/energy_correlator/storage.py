"""Writes correlations to InfluxDB."""

from __future__ import annotations

import logging

from influxdb_client import InfluxDBClient, Point, WritePrecision
from influxdb_client.client.write_api import SYNCHRONOUS
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential
from urllib3.exceptions import HTTPError

from energy_correlator.correlate import Correlation

log = logging.getLogger(__name__)


class CorrelationStore:
    def __init__(self, client: InfluxDBClient, bucket: str, org: str) -> None:
        self.bucket = bucket
        self.org = org
        self.write_api = client.write_api(write_options=SYNCHRONOUS)

    @staticmethod
    def to_point(correlation: Correlation, at_ms: int) -> Point:
        return (
            Point("energy_correlation")
            .tag("device", correlation.device)
            .tag("meter", correlation.meter)
            .tag("state", correlation.state)
            .field("delta_watts", correlation.delta_watts)
            .field("lag_ms", correlation.lag_ms)
            .time(at_ms, WritePrecision.MS)
        )

    @retry(
        stop=stop_after_attempt(3),
        wait=wait_exponential(multiplier=0.01, max=0.05),
        retry=retry_if_exception_type((IOError, HTTPError)),
    )
    def save(self, correlation: Correlation, at_ms: int) -> None:
        self.write_api.write(bucket=self.bucket, org=self.org, record=self.to_point(correlation, at_ms))

    def health(self) -> dict:
        stats = CorrelationStore.save.retry.statistics
        return {"last_write_attempts": stats.get("attempt_number", 0)}
