"""data-api configuration: ``data_api/.env`` (if present), then the process environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dotenv import load_dotenv

load_dotenv(Path(__file__).parent / ".env")


@dataclass(frozen=True)
class InfluxConfig:
    url: str
    token: str
    org: str
    bucket: str


def influx_config() -> InfluxConfig:
    return InfluxConfig(
        url=os.environ.get("INFLUX_URL", "http://127.0.0.1:8086"),
        token=os.environ.get("INFLUX_TOKEN", "homeiq-dev-token"),
        org=os.environ.get("INFLUX_ORG", "homeiq"),
        bucket=os.environ.get("INFLUX_BUCKET", "home"),
    )
