"""Callbacks no payment claims: the provider made a payout whose answers never reached us.

If every answer to our POST was lost until the hard deadline, the payment failed with TIMEOUT and
no txn id, and the provider's SUCCESS callback would wait in `early_callbacks` for ever while the
wallet released the money. This sweep asks the provider which paymentId a long-waiting txn id
belongs to and applies its callbacks to that payment (a SUCCESS on a FAILED one: LATE_SUCCESS case).
"""

from __future__ import annotations

from enum import Enum
from uuid import UUID

import structlog

from paysaga.platform.db import Database
from paysaga.platform.unit_of_work import UnitOfWork
from paysaga.services.payment import outcomes, repository
from paysaga.services.payment.domain import StepKind
from paysaga.services.payment.outcomes import apply_provider_status, now
from paysaga.services.payment.provider_client import ProviderClient, ProviderUnavailable

log = structlog.get_logger("paysaga.payment")

BATCH = 100


class _Outcome(Enum):
    APPLIED = "applied"
    WAIT = "wait"  # the payment is still being submitted: next round
    UNRESOLVED = "unresolved"  # cannot be resolved now: after `retry_after_seconds`


class OrphanCallbacks:
    def __init__(
        self,
        db: Database,
        provider: ProviderClient,
        *,
        source: str,
        older_than_seconds: float,
        retry_after_seconds: float,
    ) -> None:
        self._db = db
        self._source = source
        self._provider = provider
        self._older_than = older_than_seconds
        self._retry_after = retry_after_seconds

    async def sweep(self) -> int:
        """One round over the long-waiting txn ids; how many were applied to their payment. One
        that cannot be resolved now waits `retry_after_seconds` behind the others, so a few
        hopeless ones never hold up the rest."""
        async with self._db.connection() as conn:
            txns = await repository.stale_early_txns(conn, older_than_seconds=self._older_than, limit=BATCH)
        applied = 0
        for txn in txns:
            try:
                outcome = await self._resolve(txn)
            except Exception as exc:  # a bad answer, a database error: this one waits, the rest go on
                log.error("payment.orphan_callback_failed", provider_txn_id=txn, error=repr(exc))
                outcome = _Outcome.UNRESOLVED
            if outcome is _Outcome.APPLIED:
                applied += 1
            elif outcome is _Outcome.UNRESOLVED:
                async with self._db.connection() as conn:
                    await repository.defer_lookup(conn, txn, seconds=self._retry_after)
        return applied

    async def _resolve(self, txn: str) -> _Outcome:
        try:
            payout = await self._provider.payout(txn)
        except ProviderUnavailable as exc:
            log.warning("payment.orphan_callback_inquiry_failed", provider_txn_id=txn, error=str(exc))
            return _Outcome.UNRESOLVED
        try:
            payment_id: UUID | None = UUID(payout.payment_id)
        except ValueError:
            payment_id = None
        async with UnitOfWork(self._db, source=self._source) as uow:
            await repository.lock_txn_id(uow.conn, txn)
            payment = await repository.lock(uow.conn, payment_id) if payment_id else None
            if payment is None:
                log.error(
                    "payment.orphan_callback_unknown_payment",
                    provider_txn_id=txn,
                    payment_id=payout.payment_id,
                    action="the provider holds a payout for a payment we never recorded: reconcile by hand",
                )
                return _Outcome.UNRESOLVED
            if payment.provider_txn_id not in (None, txn):
                log.error(
                    "payment.orphan_callback_other_txn",
                    provider_txn_id=txn,
                    payment_id=str(payment.payment_id),
                    payment_txn_id=payment.provider_txn_id,
                    action="the provider holds two payouts for one payment: reconcile by hand",
                )
                return _Outcome.UNRESOLVED
            if not payment.status.final and payment.provider_txn_id is None:
                # Still being submitted: the submission stores the id and applies them, or the
                # deadline ends it; either way it is over soon. Look again next round.
                return _Outcome.WAIT
            callbacks = await repository.take_early_callbacks(uow.conn, txn)
            with payment.step(StepKind.TXN_ATTACHED, now(), providerTxnId=txn, callbacks=len(callbacks)):
                attached = payment.attach_provider_txn(txn)
            if attached:
                await outcomes.save(uow, payment)
            payment.take_steps()  # nothing new: no line
            log.warning(
                "payment.orphan_callback_matched",
                provider_txn_id=txn,
                payment_id=str(payment.payment_id),
                payment_status=payment.status,
                callbacks=len(callbacks),
            )
            for callback in callbacks:
                details = {"eventId": callback.event_id, "receivedAt": callback.received_at, "orphan": True}
                payment = await apply_provider_status(
                    uow, payment, callback.status, txn, confirmed=False, details=details
                )
            await uow.commit()
        return _Outcome.APPLIED
