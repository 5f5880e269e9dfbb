import time


class QuotaExceeded(Exception):
    def __init__(self, retry_after):
        super().__init__(f"quota exceeded, retry after {retry_after:.2f}s")
        self.retry_after = retry_after


class TokenBucket:
    def __init__(self, capacity, refill_per_second, clock=time.monotonic):
        self.capacity = capacity
        self.refill = refill_per_second
        self.clock = clock
        self.tokens = float(capacity)
        self.stamp = clock()

    def _top_up(self):
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.refill)
        self.stamp = now

    def take(self, n=1):
        self._top_up()
        if self.tokens >= n:
            self.tokens -= n
            return self.tokens
        raise QuotaExceeded((n - self.tokens) / self.refill)
