# SPDX-License-Identifier: MIT
from __future__ import annotations

from dataclasses import dataclass

import httpx
from tenacity import retry_if_exception_type, stop_after_attempt, wait_exponential
from tenacity._asyncio import AsyncRetrying

RETRYABLE = (httpx.TransportError, httpx.HTTPStatusError)


class SkyfeedError(Exception):
    pass


@dataclass(frozen=True)
class Observation:
    station: str
    temperature_c: float
    wind_ms: float


class SkyfeedClient:
    def __init__(self, base_url: str = "https://api.skyfeed.invalid/v2", token: str = "", attempts: int = 3,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._http = httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {token}"},
                                       transport=transport, timeout=5.0)
        self._attempts = attempts
        self.last_attempts = 0

    async def __aenter__(self) -> SkyfeedClient:
        return self

    async def __aexit__(self, *exc) -> None:
        await self._http.aclose()

    async def _get(self, path: str) -> dict:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._attempts),
            wait=wait_exponential(multiplier=0.001, max=0.01),
            retry=retry_if_exception_type(RETRYABLE),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                response = await self._http.get(path)
                if response.status_code >= 500:
                    response.raise_for_status()
        self.last_attempts = retrying.statistics["attempt_number"]
        if response.status_code == 404:
            raise SkyfeedError(f"no such station: {path}")
        response.raise_for_status()
        return response.json()

    async def latest(self, station: str) -> Observation:
        data = await self._get(f"/stations/{station}/latest")
        return Observation(station=station, temperature_c=data["t"], wind_ms=data["w"])
