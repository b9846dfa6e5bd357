"""Follow-up inquiries for payouts the provider had not settled when their payment timed out.

Such a payment failed with TIMEOUT and the wallet released the money, but the provider may settle
the payout later and its callback can be lost for good. So it is asked about every
`interval_seconds` until a final status (a SUCCESS opens a LATE_SUCCESS case), a callback, or its
horizon, which is logged at error level for a human.
"""

from __future__ import annotations

import time

import structlog

from paysaga.platform.db import Database
from paysaga.platform.unit_of_work import UnitOfWork
from paysaga.services.payment import outcomes, repository
from paysaga.services.payment.domain import FINAL_PROVIDER_STATUSES, StepKind
from paysaga.services.payment.outcomes import apply_provider_status, now
from paysaga.services.payment.provider_client import ProviderClient, ProviderUnavailable
from paysaga.services.payment.repository import LateInquiry

log = structlog.get_logger("paysaga.payment")

BATCH = 100


class LateInquiries:
    def __init__(self, db: Database, provider: ProviderClient, *, source: str, interval_seconds: float) -> None:
        self._db = db
        self._source = source
        self._provider = provider
        self._interval = interval_seconds

    async def sweep(self) -> int:
        """One round over the due inquiries; how many ended (final answer or horizon reached). Each
        is put off by an interval as it is taken: one that fails in between is asked again then."""
        async with self._db.connection() as conn:
            due = await repository.claim_late_inquiries(conn, limit=BATCH, next_in_seconds=self._interval)
        ended = 0
        for inquiry in due:
            try:
                ended += await self._ask(inquiry)
            except Exception as exc:  # a database error, say: this one is asked again next interval
                log.error(
                    "payment.late_inquiry_failed",
                    payment_id=str(inquiry.payment_id),
                    provider_txn_id=inquiry.provider_txn_id,
                    error=repr(exc),
                )
        return ended

    async def _ask(self, inquiry: LateInquiry) -> bool:
        pid, txn = str(inquiry.payment_id), inquiry.provider_txn_id
        started = time.monotonic()
        try:
            answer: str | None = await self._provider.status(txn)
        except ProviderUnavailable as exc:
            log.warning("payment.late_inquiry_unanswered", payment_id=pid, provider_txn_id=txn, error=str(exc))
            answer = None
        asked = {"answer": answer or "NO ANSWER", "latencyMs": round((time.monotonic() - started) * 1000, 1)}
        async with UnitOfWork(self._db, source=self._source) as uow:
            await repository.lock_txn_id(uow.conn, txn)
            payment = await repository.lock(uow.conn, inquiry.payment_id)
            if payment is None or payment.late_inquiry_at is None:
                return False  # a callback settled it meanwhile
            if answer in FINAL_PROVIDER_STATUSES:
                assert answer is not None
                log.info("payment.late_inquiry_answered", payment_id=pid, provider_txn_id=txn, status=answer)
                await apply_provider_status(  # ends the inquiries
                    uow, payment, answer, txn, confirmed=True, step=StepKind.LATE_INQUIRY, details=asked
                )
            elif payment.late_inquiry_expired(now()):
                with payment.step(StepKind.LATE_INQUIRY, now(), **asked, gaveUp=True):
                    payment.end_late_inquiry()
                await outcomes.save(uow, payment)
                log.error(
                    "payment.late_inquiry_gave_up",
                    payment_id=pid,
                    provider_txn_id=txn,
                    provider_status=answer or "no answer",
                    action="the provider never settled this payout: ask it before closing the payment",
                )
            else:
                return False  # asked again after the interval (set when it was claimed)
            await uow.commit()
        return True
