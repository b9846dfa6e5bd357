"""Password hashing (argon2id, tens of ms of CPU each) on a small executor of its own, bounded:
a login flood neither starves the event loop nor queues hashes without bound — past the bound
the request is shed (`HashingBusy`, answered 503 with `Retry-After`). Shared by the services that
keep passwords: Customer (customers) and Ops (operators)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError

T = TypeVar("T")


class Hasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, hash: str, password: str) -> bool: ...

    def check_needs_rehash(self, hash: str) -> bool: ...


# argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): ~30 ms a hash on 2 cores,
# instead of the library's 64 MiB default that costs ~250 ms and caps logins at a few per second.
def default_hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


class HashingBusy(Exception):
    """Every worker is busy and the queue is full: shed this request."""


class PasswordHashing:
    """`workers` threads hash; at most `queue` more hashes wait for one; more raise `HashingBusy`."""

    def __init__(self, hasher: Hasher | None = None, *, workers: int = 2, queue: int = 32) -> None:
        self.hasher: Hasher = hasher or default_hasher()
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="password-hash")
        self._capacity = workers + queue
        self._pending = 0
        self._lock = threading.Lock()

    @property
    def pending(self) -> int:
        """Hashes submitted and not finished (running or queued)."""
        return self._pending

    def _release(self, _: Future[Any]) -> None:
        with self._lock:
            self._pending -= 1

    async def _run(self, fn: Callable[..., T], *args: str) -> T:
        with self._lock:
            if self._pending >= self._capacity:
                raise HashingBusy("the password hashing queue is full")
            self._pending += 1
        try:
            future = self._executor.submit(fn, *args)
        except BaseException:
            with self._lock:
                self._pending -= 1
            raise
        # Released when the hash ends (or, cancelled before it started, is dropped), not when the
        # awaiting request goes away: the bound counts the work really in the executor.
        future.add_done_callback(self._release)
        return await asyncio.wrap_future(future)

    async def hash(self, password: str) -> str:
        return await self._run(self.hasher.hash, password)

    async def verify(self, stored: str, password: str) -> bool:
        """True when `password` matches `stored`, False when not."""
        try:
            return bool(await self._run(self.hasher.verify, stored, password))
        except VerificationError:
            return False

    def needs_rehash(self, stored: str) -> bool:
        return self.hasher.check_needs_rehash(stored)

    async def aclose(self) -> None:
        """At shutdown: drop the queued hashes; the running ones end in their threads."""
        self._executor.shutdown(wait=False, cancel_futures=True)
