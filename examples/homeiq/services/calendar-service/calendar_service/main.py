"""Fetch the calendar feed periodically and publish occupancy hints."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import urllib.request
from datetime import datetime, timezone

from asyncio_mqtt import Client, Will
from asyncio_mqtt.error import MqttCodeError
from dotenv import load_dotenv
from tenacity import retry, stop_after_attempt, wait_exponential

from calendar_service.ics import away_windows, parse_events

load_dotenv()
log = logging.getLogger("calendar-service")

MQTT_HOST = os.getenv("MQTT_HOST", "127.0.0.1")
MQTT_PORT = int(os.getenv("MQTT_PORT", "1883"))
FEED_URL = os.getenv("CALENDAR_FEED_URL", "http://127.0.0.1:8090/household.ics")
POLL_SECONDS = int(os.getenv("CALENDAR_POLL_SECONDS", "300"))

client = Client(
    MQTT_HOST,
    MQTT_PORT,
    client_id="calendar-service",
    will=Will("homeiq/status/calendar-service", payload=b"offline", qos=1, retain=True),
)


@retry(stop=stop_after_attempt(5), wait=wait_exponential(multiplier=1, max=30))
def fetch_feed(url: str = FEED_URL) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode("utf-8")


def occupancy(now: datetime, feed: str) -> dict:
    windows = away_windows(parse_events(feed))
    current = [w for w in windows if w[0] <= now < w[1]]
    upcoming = [w for w in windows if w[0] > now]
    return {
        "away": bool(current),
        "back_at": current[0][1].isoformat() if current else None,
        "next_away": upcoming[0][0].isoformat() if upcoming else None,
    }


async def main() -> None:
    logging.basicConfig(level=logging.INFO)
    try:
        await client.connect()
    except MqttCodeError as error:
        if error.rc == 5:
            log.error("broker refused the connection: not authorised")
        raise
    try:
        while True:
            hint = occupancy(datetime.now(tz=timezone.utc), await asyncio.to_thread(fetch_feed))
            await client.publish("homeiq/calendar/occupancy", json.dumps(hint), qos=1, retain=True)
            await asyncio.sleep(POLL_SECONDS)
    finally:
        await client.disconnect()


if __name__ == "__main__":
    asyncio.run(main())
