"""The payment worker: leases due payments and advances them, many at a time.

Woken at once when a payment arrives (after its transaction commits) and otherwise polls, so
retries, inquiries and deadlines happen on time. Leases let several Payment instances share the
work, and a crashed worker's payments are taken over when its lease runs out.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from paysaga.services.payment import repository
from paysaga.services.payment.handlers import Steps
from paysaga.services.payment.repository import Payment

log = structlog.get_logger("paysaga.payment.worker")


class PaymentProcessor:
    def __init__(self, steps: Steps, *, batch: int, lease_seconds: float, poll_seconds: float) -> None:
        self._steps = steps
        self._batch = batch
        self._lease = lease_seconds
        self._poll = poll_seconds
        self._wakeup = asyncio.Event()
        self._stopping = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()
        self._maybe_more = False  # the last claim filled every free slot: more may be due

    def wake(self) -> None:
        self._wakeup.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wakeup.set()

    async def run(self) -> None:
        log.info("payment.worker_started")
        while not self._stopping.is_set():
            self._wakeup.clear()
            capacity = self._batch - len(self._in_flight)
            claimed: list[Payment] = []
            if capacity > 0:
                try:
                    async with self._steps.db.connection() as conn:
                        claimed = await repository.claim_due(conn, limit=capacity, lease_seconds=self._lease)
                except Exception as exc:  # the database is away: wait and try again
                    log.warning("payment.worker_claim_failed", error=repr(exc))
            self._maybe_more = capacity <= 0 or len(claimed) == capacity
            for payment in claimed:
                task = asyncio.create_task(self._advance(payment))
                self._in_flight.add(task)
                task.add_done_callback(self._done)
            if claimed and len(claimed) == capacity:
                await asyncio.sleep(0)  # maybe more due: claim again right away
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self._poll)
        if self._in_flight:
            await asyncio.wait(self._in_flight, timeout=10)
        log.info("payment.worker_stopped")

    def _done(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        if self._maybe_more:
            self._wakeup.set()  # a slot is free and work may be waiting for it

    async def _advance(self, payment: Payment) -> None:
        try:
            await self._steps.advance(payment)
        except Exception as exc:
            # Unexpected (a bug or the database went away mid-step): the lease runs out and the
            # payment is retried from its stored state.
            log.exception("payment.step_failed", payment_id=str(payment.payment_id), error=repr(exc))
