"""Queries behind the data-api endpoints."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from influxdb_client import InfluxDBClient
from influxdb_client.rest import ApiException
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from data_api.config import InfluxConfig

log = logging.getLogger(__name__)

_TRANSIENT_STATUS = {429, 500, 502, 503, 504}


def is_transient(retry_state) -> bool:
    """Retry on InfluxDB overload answers and on connection-level failures."""
    if not retry_state.outcome.failed:
        return False
    error = retry_state.outcome.exception()
    if isinstance(error, ApiException):
        return error.status in _TRANSIENT_STATUS
    return isinstance(error, (MaxRetryError, NewConnectionError, ProtocolError))


@dataclass(frozen=True)
class HistoryPoint:
    entity_id: str
    time: datetime
    value: float


def _flux_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class HistoryService:
    """Reads entity history out of InfluxDB with Flux."""

    def __init__(self, client: InfluxDBClient, config: InfluxConfig) -> None:
        self.client = client
        self.config = config

    @retry(
        stop=stop_after_attempt(3),
        wait=wait_exponential(multiplier=0.01, max=0.05),
        retry=retry_if_exception_type(IOError) | is_transient,
        reraise=True,
    )
    def _query(self, flux: str):
        return self.client.query_api().query(flux, org=self.config.org)

    def entity_history(self, entity_id: str, start: str = "-1h", measurement: str = "ha_state",
                       field: str = "value") -> list[HistoryPoint]:
        flux = (
            f'from(bucket: {_flux_string(self.config.bucket)})\n'
            f"  |> range(start: {start})\n"
            f"  |> filter(fn: (r) => r._measurement == {_flux_string(measurement)}"
            f" and r._field == {_flux_string(field)})\n"
            f"  |> filter(fn: (r) => r.entity_id == {_flux_string(entity_id)})"
        )
        points = []
        for table in self._query(flux):
            for record in table.records:
                points.append(HistoryPoint(record.values["entity_id"], record.get_time(), float(record.get_value())))
        return sorted(points, key=lambda p: p.time)

    def power_by_entity(self, start: str = "-1h") -> dict[str, float]:
        """Average power draw in watts per entity over the range."""
        flux = (
            f'from(bucket:"{self.config.bucket}") |> range(start: {start}) '
            '|> filter(fn: (r) => r._measurement == "power" and r._field == "watts")'
        )
        samples: dict[str, list[float]] = {}
        for table in self._query(flux):
            for record in table.records:
                samples.setdefault(record.values["entity_id"], []).append(record.get_value())
        return {entity: sum(values) / len(values) for entity, values in sorted(samples.items())}

    async def entity_history_async(self, entity_id: str, start: str = "-1h") -> list[HistoryPoint]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self.entity_history, entity_id, start)

    def query_stats(self) -> dict:
        """Retry statistics of the last query, exposed on /health."""
        stats = dict(HistoryService._query.retry.statistics)
        return {"attempts": stats.get("attempt_number", 0), "idle_for": stats.get("idle_for", 0.0)}
