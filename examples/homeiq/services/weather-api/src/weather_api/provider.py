"""Weather providers and the retry policy around them."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Protocol

from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential


@dataclass(frozen=True)
class Observation:
    temperature_c: float
    humidity_pct: float
    wind_ms: float
    condition: str

    def metrics(self) -> dict[str, str]:
        return {
            "temperature": f"{self.temperature_c:.1f}",
            "humidity": f"{self.humidity_pct:.0f}",
            "wind": f"{self.wind_ms:.1f}",
            "condition": self.condition,
        }


class Provider(Protocol):
    def current(self, location: str) -> Observation: ...


class HttpProvider:
    """Reads ``GET <url>?location=<name>`` answering ``{"temperature_c": .., ...}``."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.url = url
        self.timeout = timeout

    def current(self, location: str) -> Observation:
        query = urllib.parse.urlencode({"location": location})
        with urllib.request.urlopen(f"{self.url}?{query}", timeout=self.timeout) as response:
            return Observation(**json.load(response))


@retry(
    stop=stop_after_attempt(3),
    wait=wait_exponential(multiplier=0.01, max=0.05),
    retry=retry_if_exception_type(OSError),
    reraise=True,
)
def fetch_current(provider: Provider, location: str) -> Observation:
    return provider.current(location)


def last_fetch_attempts() -> int:
    return int(fetch_current.statistics.get("attempt_number", 0))
