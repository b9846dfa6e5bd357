"""The payment worker: leases due payments and advances them, many at a time.

Woken at once when a payment arrives (after its transaction commits) and otherwise polls, so
retries, inquiries and deadlines happen on time. Leases let several Payment instances share the
work, and a crashed worker's payments are taken over when its lease runs out.
"""

from __future__ import annotations

import structlog

from paysaga.platform.lease_loop import LeaseLoop
from paysaga.services.payment import repository
from paysaga.services.payment.domain import Payment
from paysaga.services.payment.handlers import Steps

log = structlog.get_logger("paysaga.payment.worker")


class PaymentProcessor:
    def __init__(self, steps: Steps, *, batch: int, lease_seconds: float, poll_seconds: float) -> None:
        self._steps = steps
        self._lease = lease_seconds
        self._loop: LeaseLoop[Payment] = LeaseLoop(
            "payment", self._claim, self._advance, capacity=batch, poll_seconds=poll_seconds, drain_seconds=10
        )

    def wake(self) -> None:
        self._loop.wake()

    def stop(self) -> None:
        self._loop.stop()

    async def run(self) -> None:
        log.info("payment.worker_started")
        await self._loop.run()
        log.info("payment.worker_stopped")

    async def _claim(self, limit: int) -> list[Payment]:
        async with self._steps.db.connection() as conn:
            return await repository.claim_due(conn, limit=limit, lease_seconds=self._lease)

    async def _advance(self, payment: Payment) -> None:
        try:
            await self._steps.advance(payment)
        except Exception as exc:
            # Unexpected (a bug or the database went away mid-step): the lease runs out and the
            # payment is retried from its stored state.
            log.exception("payment.step_failed", payment_id=str(payment.payment_id), error=repr(exc))
