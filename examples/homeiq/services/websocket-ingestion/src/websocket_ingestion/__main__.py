"""``python -m websocket_ingestion``: run the ingestion loop with settings from the environment."""

import asyncio
import logging
from pathlib import Path

from homeiq_common.settings import load_settings
from influxdb_client import InfluxDBClient

from websocket_ingestion.service import IngestionService


def main() -> None:
    settings = load_settings(Path(__file__).resolve().parents[2] / ".env", service_name="websocket-ingestion")
    logging.basicConfig(level=settings.log_level)
    with InfluxDBClient(url=settings.influx_url, token=settings.influx_token, org=settings.influx_org) as influx:
        asyncio.run(IngestionService(settings, influx).run())


if __name__ == "__main__":
    main()
