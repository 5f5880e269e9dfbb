import asyncio
import logging

from tenacity import (
    AsyncRetrying,
    before_sleep_log,
    retry,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from quota.bucket import QuotaExceeded

log = logging.getLogger(__name__)


@retry(
    retry=retry_if_exception_type(QuotaExceeded),
    wait=wait_exponential(multiplier=0.001, max=0.01),
    stop=stop_after_attempt(5),
    before_sleep=before_sleep_log(log, logging.INFO),
)
def take_with_backoff(bucket, n=1):
    return bucket.take(n)


async def take_async(bucket, n=1, attempts=3):
    async for attempt in AsyncRetrying(retry=retry_if_exception_type(QuotaExceeded),
                                       stop=stop_after_attempt(attempts), reraise=True,
                                       sleep=lambda s: asyncio.sleep(0)):
        with attempt:
            return bucket.take(n)
