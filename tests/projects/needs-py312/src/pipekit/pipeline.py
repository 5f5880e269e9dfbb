import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from dotenv import load_dotenv
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

load_dotenv()

type StageFn[I, O] = Callable[[I], Awaitable[O]]
type Attempts = int


class Transient(Exception):
    """Raise from a stage to have it retried."""


@dataclass
class Stage[I, O]:
    name: str
    fn: StageFn[I, O]
    attempts: Attempts = field(default_factory=lambda: int(os.getenv("PIPEKIT_ATTEMPTS", "3")))
    calls: int = 0

    async def __call__(self, value: I) -> O:
        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential(multiplier=0.001, max=0.01),
            retry=retry_if_exception_type(Transient),
            reraise=True,
        ):
            with attempt:
                self.calls += 1
                return await self.fn(value)
        raise AssertionError("unreachable")


class Pipeline[I, O]:
    def __init__(self, *stages: Stage) -> None:
        self.stages = stages

    async def run(self, value: I) -> O:
        for stage in self.stages:
            value = await stage(value)
        return value  # type: ignore[return-value]


def first_ok[T](values: Sequence[T | None]) -> T:
    for value in values:
        if value is not None:
            return value
    raise LookupError("no value")
