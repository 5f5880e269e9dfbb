"""Queries behind the data-api endpoints."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from influxdb_client import InfluxDBClient
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from data_api.config import InfluxConfig

log = logging.getLogger(__name__)

_PERMANENT = ("unauthorized", "unauthenticated", "forbidden", "permission denied")


def is_transient(retry_state) -> bool:
    """Retry a failed query unless InfluxDB refused the credentials (a retry cannot fix that)."""
    if not retry_state.outcome.failed:
        return False
    message = str(retry_state.outcome.exception()).lower()
    return not any(word in message for word in _PERMANENT)


@dataclass(frozen=True)
class HistoryPoint:
    entity_id: str
    time: datetime
    value: float


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
    def entity_history(self, entity_id: str, minutes: int = 60, measurement: str = "ha_state",
                       field: str = "value") -> list[HistoryPoint]:
        """Points of *entity_id* over the last *minutes*, oldest first."""
        flux = (
            f'from(bucket: "{self.config.bucket}")\n'
            f"  |> range(start: -{int(minutes)}m)\n"
            f'  |> filter(fn: (r) => r._measurement == "{measurement}" and r._field == "{field}")\n'
            "  |> filter(fn: (r) => r.entity_id == entity)"
        )
        points = []
        for table in self.client.query_api().query(flux, org=self.config.org, params={"entity": entity_id}):
            for record in table.records:
                points.append(HistoryPoint(record.values["entity_id"], record.get_time(), float(record.get_value())))
        return sorted(points, key=lambda p: p.time)

    @retry(
        stop=stop_after_attempt(3),
        wait=wait_exponential(multiplier=0.01, max=0.05),
        retry=retry_if_exception_type(IOError) | is_transient,
        reraise=True,
    )
    def power_by_entity(self, minutes: int = 60) -> dict[str, float]:
        """Average power draw in watts per entity over the last *minutes*."""
        flux = (
            f'from(bucket:"{self.config.bucket}") |> range(start: -{int(minutes)}m) '
            '|> filter(fn: (r) => r._measurement == "power" and r._field == "watts")'
        )
        samples: dict[str, list[float]] = {}
        for table in self.client.query_api().query(flux, org=self.config.org):
            for record in table.records:
                samples.setdefault(record.values["entity_id"], []).append(record.get_value())
        return {entity: sum(values) / len(values) for entity, values in sorted(samples.items())}

    async def entity_history_async(self, entity_id: str, minutes: int = 60) -> list[HistoryPoint]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self.entity_history, entity_id, minutes)

    def query_stats(self) -> dict:
        """Retry statistics of the last power summary, exposed on /health."""
        stats = dict(HistoryService.power_by_entity.retry.statistics)
        return {"attempts": stats.get("attempt_number", 0), "idle_for": stats.get("idle_for", 0.0)}
