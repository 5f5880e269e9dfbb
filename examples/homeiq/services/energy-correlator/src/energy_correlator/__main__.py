"""``python -m energy_correlator``: correlate forever with settings from the environment."""

import asyncio
import logging

from asyncio_mqtt import Client
from homeiq_common.settings import load_settings
from influxdb_client import InfluxDBClient

from energy_correlator.correlate import Correlator
from energy_correlator.service import correlate
from energy_correlator.storage import CorrelationStore


async def run() -> None:
    settings = load_settings(None, service_name="energy-correlator")
    with InfluxDBClient(url=settings.influx_url, token=settings.influx_token, org=settings.influx_org) as influx:
        store = CorrelationStore(influx, bucket=settings.influx_bucket, org=settings.influx_org)
        async with Client(settings.mqtt_host, settings.mqtt_port, client_id="energy-correlator") as client:
            await correlate(client, Correlator(), store)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    asyncio.run(run())
