"""Collect single async calls into batched calls."""
import asyncio
from typing import Awaitable, Callable, Generic, List, Sequence, Tuple, TypeVar

__version__ = "0.6.0"

T = TypeVar("T")
R = TypeVar("R")


class Batcher(Generic[T, R]):
    def __init__(self, handler: Callable[[List[T]], Awaitable[Sequence[R]]], max_size: int = 100,
                 max_delay: float = 0.01) -> None:
        self._handler = handler
        self._max_size = max_size
        self._max_delay = max_delay
        self._pending: List[Tuple[T, "asyncio.Future[R]"]] = []
        self._timer: "asyncio.TimerHandle | None" = None
        self.batches = 0

    async def submit(self, item: T) -> R:
        loop = asyncio.get_running_loop()
        future: "asyncio.Future[R]" = loop.create_future()
        self._pending.append((item, future))
        if len(self._pending) >= self._max_size:
            self._cancel_timer()
            loop.create_task(self._run(self._take()))
        elif self._timer is None:
            self._timer = loop.call_later(self._max_delay, lambda: loop.create_task(self._run(self._take())))
        return await future

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _take(self) -> List[Tuple[T, "asyncio.Future[R]"]]:
        self._timer = None
        pending, self._pending = self._pending, []
        return pending

    async def _run(self, pending: List[Tuple[T, "asyncio.Future[R]"]]) -> None:
        if not pending:
            return
        self.batches += 1
        try:
            results = await self._handler([item for item, _ in pending])
        except Exception as err:  # noqa: BLE001 - every waiter gets the failure
            for _, future in pending:
                future.set_exception(err)
            return
        for (_, future), result in zip(pending, results):
            future.set_result(result)
