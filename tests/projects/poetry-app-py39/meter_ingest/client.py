import asyncio
from typing import Any, Awaitable, Callable, Dict, List

from tenacity import (
    AsyncRetrying,
    RetryError,
    retry,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential,
    wait_fixed,
)


class ApiUnavailable(Exception):
    pass


Fetch = Callable[[str], Awaitable[List[Dict[str, Any]]]]


class MeterClient:
    def __init__(self, fetch: Fetch, attempts: int = 4):
        self._fetch = fetch
        self.attempts = attempts

    async def readings(self, meter_id: str) -> List[Dict[str, Any]]:
        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential(multiplier=0.01, max=0.05),
            retry=retry_if_exception_type(ApiUnavailable),
            reraise=True,
        ):
            with attempt:
                return await self._fetch(meter_id)
        raise AssertionError("unreachable")


@retry(
    stop=(stop_after_attempt(3) | stop_after_delay(5)),
    wait=wait_fixed(0.01),
    retry=retry_if_exception_type((ConnectionError, TimeoutError)),
)
def push_batch(queue: list, batch: List[Dict[str, Any]]) -> int:
    """Append a batch to the billing queue; the queue object may raise ConnectionError."""
    queue.append(list(batch))
    return len(batch)


def push_stats() -> Dict[str, Any]:
    """What the health endpoint reports about the last push."""
    return dict(push_batch.retry.statistics)


async def ingest(client: MeterClient, queue: list, meters: List[str], batch_size: int = 500) -> int:
    results = await asyncio.gather(*(client.readings(m) for m in meters))
    rows = [row for chunk in results for row in chunk]
    pushed = 0
    for start in range(0, len(rows), batch_size):
        try:
            pushed += push_batch(queue, rows[start:start + batch_size])
        except RetryError:
            break
    return pushed
