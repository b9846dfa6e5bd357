"""A client that keeps paying from a background thread, as a well-behaved customer would while
the platform is hurt: each payment is retried with its Idempotency-Key on a 5xx or no answer."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TypeVar

import httpx

from tests.support.saga import Customer, new_account

T = TypeVar("T")


def pay_until_accepted(
    customer: Customer, amount: int, account: str, timeout: float = 60, on_failure: Callable[[], None] | None = None
) -> str:
    """A well-behaved client: on 5xx or no answer, retry with the same Idempotency-Key."""
    key = str(uuid.uuid4())
    deadline = time.monotonic() + timeout
    while True:
        try:
            response = customer.pay(amount, account, key=key)
            if response.status_code == 202:
                return response.json()["paymentId"]
            assert response.status_code >= 500, response.text
        except httpx.TransportError:
            pass
        if on_failure is not None:
            on_failure()
        assert time.monotonic() < deadline, "the payment was never accepted"
        time.sleep(0.2)


class Sender:
    """Sends payments from a background thread, one after another, until stopped."""

    def __init__(
        self, customers: list[Customer], bff_url: str, *, max_payments: int = 200, pause: float = 0.05
    ) -> None:
        self._customers = customers
        self._max_payments = max_payments  # keep it under Anti-Fraud's velocity limit (100 per user an hour)
        self._pause = pause
        self._bff_url = bff_url
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="payment-sender", daemon=True)
        self.ids: list[str] = []
        self.owners: dict[str, int] = {}  # paymentId -> index of the customer who sent it
        self.waited: dict[str, float] = {}  # paymentId -> seconds from its first try to its 202 (retries included)
        self.failures = 0  # answers that were a 5xx or never came
        self.error: BaseException | None = None

    def __enter__(self) -> Sender:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join(90)
        assert not self._thread.is_alive(), "the sender did not stop"

    def _failed(self) -> None:
        with self._lock:
            self.failures += 1

    def _run(self) -> None:
        try:
            with httpx.Client(base_url=self._bff_url, timeout=10) as client:
                own = [Customer(client, c.user_id, c.token) for c in self._customers]
                i = 0
                while not self._stop.is_set() and i < self._max_payments:
                    who = i % len(own)
                    asked = time.monotonic()
                    pid = pay_until_accepted(own[who], 1_000 + i, new_account(), on_failure=self._failed)
                    with self._lock:
                        self.ids.append(pid)
                        self.owners[pid] = who
                        self.waited[pid] = time.monotonic() - asked
                    i += 1
                    time.sleep(self._pause)
        except BaseException as exc:
            self.error = exc

    def accepted(self) -> int:
        with self._lock:
            return len(self.ids)

    def wait(self, condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert self.error is None, f"the sender failed: {self.error!r}"
            assert self._thread.is_alive(), f"the sender stopped ({self.accepted()} accepted) before {what}"
            assert time.monotonic() < deadline, f"{what}: not seen after {timeout} s"
            time.sleep(0.05)


async def wait_for(probe: Callable[[], Awaitable[T]], done: Callable[[T], bool], what: str, timeout: float = 30) -> T:
    """Poll `probe` until `done` holds for its answer; fail with `what` and the last answer at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        found = await probe()
        if done(found):
            return found
        assert time.monotonic() < deadline, f"{what}: not seen after {timeout} s (last: {found})"
        await asyncio.sleep(0.05)
