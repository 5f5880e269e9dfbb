import asyncio
import fnmatch
import os
from dataclasses import dataclass
from typing import Awaitable, Callable, Dict, List

from dotenv import dotenv_values
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential


@dataclass(frozen=True)
class Alert:
    service: str
    severity: str
    summary: str


def load_routes(path: str) -> Dict[str, str]:
    """routes.env: `service-glob=channel`, most specific glob first."""
    return {pattern: channel for pattern, channel in dotenv_values(path).items() if channel}


def route(alert: Alert, routes: Dict[str, str], default: str = "#ops") -> str:
    for pattern, channel in routes.items():
        if fnmatch.fnmatch(alert.service, pattern):
            return channel
    return os.getenv("ALERT_DEFAULT_CHANNEL", default)


class DeliveryFailed(Exception):
    pass


async def deliver(alerts: List[Alert], routes: Dict[str, str], send: Callable[[str, str], Awaitable[None]]) -> int:
    async def one(alert):
        async for attempt in AsyncRetrying(stop=stop_after_attempt(3), reraise=True,
                                           wait=wait_exponential(multiplier=0.001, max=0.01),
                                           retry=retry_if_exception_type(DeliveryFailed)):
            with attempt:
                await send(route(alert, routes), f"[{alert.severity}] {alert.service}: {alert.summary}")

    await asyncio.gather(*(one(a) for a in alerts))
    return len(alerts)
