"""Entry point of the retention job; InfluxDB settings come from INFLUXDB_V2_* variables."""

from __future__ import annotations

import logging
import os

from influxdb_client import InfluxDBClient

from data_retention.purge import purge_raw
from data_retention.rollup import RollupJob


def make_client(**kwargs) -> InfluxDBClient:
    """The client configured by the environment; *kwargs* go to the client (e.g. ``retries=False``)."""
    return InfluxDBClient.from_env_properties(**kwargs)


def main(purge: bool = False) -> int:
    logging.basicConfig(level=logging.INFO)
    source = os.environ.get("RETENTION_SOURCE_BUCKET", "home")
    with make_client() as client:
        written = RollupJob(client, source, os.environ.get("RETENTION_TARGET_BUCKET", "home_rollup")).run()
        if purge:
            purge_raw(client, source, client.org, "ha_state", int(os.environ.get("RETENTION_DAYS", "30")))
    return written


if __name__ == "__main__":
    main(purge=os.environ.get("RETENTION_PURGE") == "1")
