"""The claim loop of a leasing worker: claim due work, run each item as a task, claim again.

`claim(limit)` typically takes rows `FOR UPDATE SKIP LOCKED` with a lease that runs out if the worker dies, so
unfinished work is claimed again later. The loop claims when woken (`wake()`: new work committed) and every
`poll_seconds` (retries falling due), at most `capacity` in flight. On stop it waits `drain_seconds` for the
tasks in hand, then cancels the rest: their leases run out and the work is retried.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, Generic, TypeVar

import structlog

log = structlog.get_logger("paysaga.lease_loop")

T = TypeVar("T")


class LeaseLoop(Generic[T]):
    def __init__(
        self,
        name: str,
        claim: Callable[[int], Awaitable[Sequence[T]]],
        handle: Callable[[T], Coroutine[Any, Any, None]],
        *,
        capacity: int,
        poll_seconds: float,
        drain_seconds: float,
    ) -> None:
        self.name = name
        self._claim = claim
        self._handle = handle
        self._capacity = capacity
        self._poll = poll_seconds
        self._drain = drain_seconds
        self._wakeup = asyncio.Event()
        self._stopping = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()
        self._maybe_more = False  # the last claim filled every free slot: more may be due

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    def wake(self) -> None:
        self._wakeup.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wakeup.set()

    async def run(self) -> None:
        while not self._stopping.is_set():
            self._wakeup.clear()
            if await self._claim_once():
                await asyncio.sleep(0)  # maybe more due: claim again right away
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self._poll)
        await self._finish()

    async def _claim_once(self) -> bool:
        """Start tasks for the free slots; True if every free slot was filled."""
        capacity = self._capacity - len(self._in_flight)
        claimed: Sequence[T] = []
        if capacity > 0:
            try:
                claimed = await self._claim(capacity)
            except Exception as exc:  # the database is away: wait and try again
                log.warning("lease_loop.claim_failed", worker=self.name, error=repr(exc))
        self._maybe_more = capacity <= 0 or len(claimed) == capacity
        for item in claimed:
            task = asyncio.create_task(self._handle(item))
            self._in_flight.add(task)
            task.add_done_callback(self._done)
        return capacity > 0 and len(claimed) == capacity

    def _done(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        if self._maybe_more:
            self._wakeup.set()  # a slot is free and work may be waiting for it

    async def _finish(self) -> None:
        if not self._in_flight:
            return
        _, still = await asyncio.wait(self._in_flight, timeout=self._drain)
        for task in still:
            task.cancel()
        if still:
            await asyncio.wait(still)
