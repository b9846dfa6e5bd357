"""A service worker that runs one job at a fixed interval (purges, clean-ups)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog

log = structlog.get_logger("paysaga.periodic")


class Periodic:
    """Runs `job` now and then every `every_seconds` until `stop()`; a failing round (the database
    away, say) is logged and the job runs again at the next interval."""

    def __init__(self, name: str, job: Callable[[], Awaitable[object]], *, every_seconds: float) -> None:
        self.name = name
        self._job = job
        self._every = every_seconds
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self._job()
            except Exception as exc:
                log.warning("periodic.failed", job=self.name, error=repr(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._every)
