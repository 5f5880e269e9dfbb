import argparse
import asyncio
import logging

from meter_ingest.client import MeterClient, ingest
from meter_ingest.config import load_config


def main(argv=None):  # pragma: no cover - wiring only
    parser = argparse.ArgumentParser(prog="meter-ingest")
    parser.add_argument("meters", nargs="+")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    config = load_config()

    async def fetch(meter_id):
        raise NotImplementedError(f"GET {config.api_url}/meters/{meter_id}")

    queue: list = []
    asyncio.run(ingest(MeterClient(fetch), queue, args.meters, config.batch_size))
