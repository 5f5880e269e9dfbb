import pytest
from tenacity import RetryError

from quota.bucket import QuotaExceeded, TokenBucket
from quota.client import take_async, take_with_backoff


def describe_token_bucket():
    @pytest.fixture
    def bucket(clock):
        return TokenBucket(capacity=2, refill_per_second=1, clock=clock)

    def it_starts_full(bucket):
        assert bucket.take() == 1
        assert bucket.take() == 0

    def it_refuses_when_empty(bucket):
        bucket.take(2)
        with pytest.raises(QuotaExceeded) as info:
            bucket.take()
        assert info.value.retry_after == pytest.approx(1.0)

    def context_refill():
        def it_refills_over_time(bucket, clock):
            bucket.take(2)
            clock.advance(1.5)
            assert bucket.take() == pytest.approx(0.5)

        def it_never_exceeds_capacity(bucket, clock):
            clock.advance(100)
            assert bucket.take() == 1


def describe_backoff():
    def it_waits_for_a_token(clock, monkeypatch):
        bucket = TokenBucket(capacity=1, refill_per_second=2000, clock=clock)
        bucket.take()
        # tenacity sleeps on our fake clock
        monkeypatch.setattr(take_with_backoff.retry, "sleep", clock.advance)
        assert take_with_backoff(bucket) == 0
        assert take_with_backoff.retry.statistics["attempt_number"] == 2
        assert clock.now == pytest.approx(0.001)

    def it_gives_up(clock):
        bucket = TokenBucket(capacity=1, refill_per_second=0.001, clock=clock)
        bucket.take()
        with pytest.raises(RetryError):
            take_with_backoff(bucket)
        assert take_with_backoff.retry.statistics["attempt_number"] == 5

    @pytest.mark.asyncio
    async def it_retries_async(clock):
        bucket = TokenBucket(capacity=1, refill_per_second=0.001, clock=clock)
        bucket.take()
        with pytest.raises(QuotaExceeded):
            await take_async(bucket)
