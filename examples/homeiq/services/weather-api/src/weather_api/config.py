"""Settings: ``.env`` beside the package (if any), then the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dotenv import load_dotenv

load_dotenv(Path(__file__).resolve().parent / ".env")


@dataclass(frozen=True)
class WeatherConfig:
    mqtt_host: str
    mqtt_port: int
    provider_url: str
    locations: tuple[str, ...]


def load_config() -> WeatherConfig:
    return WeatherConfig(
        mqtt_host=os.environ.get("MQTT_HOST", "127.0.0.1"),
        mqtt_port=int(os.environ.get("MQTT_PORT", "1883")),
        provider_url=os.environ.get("WEATHER_API_URL", "http://127.0.0.1:8080/v1/current"),
        locations=tuple(filter(None, os.environ.get("WEATHER_LOCATIONS", "home").split(","))),
    )
