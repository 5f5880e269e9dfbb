import os
import time
from dataclasses import dataclass
from typing import Callable, Dict, List

from dotenv import load_dotenv
from tenacity import RetryError, retry, retry_if_result, stop_after_attempt, wait_fixed

load_dotenv()


@dataclass
class Result:
    url: str
    up: bool
    attempts: int
    seconds: float


def _is_down(status: int) -> bool:
    return status >= 500


@retry(retry=retry_if_result(_is_down), stop=stop_after_attempt(3), wait=wait_fixed(0))
def _check(get: Callable[[str], int], url: str) -> int:
    return get(url)


def probe(get: Callable[[str], int], url: str) -> Result:
    start = time.monotonic()
    try:
        up = not _is_down(_check(get, url))
    except RetryError:
        up = False
    # how many tries this probe needed, from tenacity's statistics
    attempts = _check.retry.statistics.get("attempt_number", 0)
    return Result(url, up, attempts, time.monotonic() - start)


def probe_all(get: Callable[[str], int], urls: List[str]) -> Dict[str, Result]:
    return {url: probe(get, url) for url in urls}


def endpoints() -> List[str]:
    return [u.strip() for u in os.getenv("PROBE_URLS", "").split(",") if u.strip()]
