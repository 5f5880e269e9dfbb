"""Purging raw points past the retention window (run by the nightly job, not by the rollups)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from influxdb_client import InfluxDBClient

log = logging.getLogger(__name__)


def purge_raw(client: InfluxDBClient, bucket: str, org: str, measurement: str, keep_days: int) -> datetime:
    """Delete raw points of *measurement* older than *keep_days*; return the cut-off."""
    cutoff = datetime.now(tz=timezone.utc) - timedelta(days=keep_days)
    client.delete_api().delete(
        start=datetime(1970, 1, 1, tzinfo=timezone.utc),
        stop=cutoff,
        predicate=f'_measurement="{measurement}"',
        bucket=bucket,
        org=org,
    )
    log.info("purged %s before %s", measurement, cutoff.isoformat())
    return cutoff
