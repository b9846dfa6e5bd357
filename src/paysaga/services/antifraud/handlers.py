"""What Anti-Fraud does with the payment-events it consumes: it keeps the velocity data current.

Each handler runs in the consumer's transaction, after the inbox claimed the event id; on top
of that, every write is idempotent per payment id, so the same payment published twice (under
two event ids) still counts once.
"""

from __future__ import annotations

import structlog

from paysaga.contracts.events import PaymentCompleted, PaymentFailed, PaymentInitiated
from paysaga.platform.consumer import Delivery
from paysaga.platform.unit_of_work import Transaction
from paysaga.services.antifraud import repository

log = structlog.get_logger("paysaga.antifraud")


async def record_initiated(event: PaymentInitiated, uow: Transaction, delivery: Delivery) -> None:
    """PaymentInitiated → one more payment in the user's velocity (once per payment id)."""
    recorded = await repository.record_payment(
        uow.conn,
        payment_id=event.payment_id,
        user_id=event.user_id,
        amount=event.amount,
        currency=event.currency,
        created_at=event.created_at,
        learned_from="event",
    )
    log.debug(
        "antifraud.payment_recorded" if recorded else "antifraud.payment_already_known",
        payment_id=event.payment_id,
        user_id=event.user_id,
        event_id=delivery.meta.id,
    )


async def record_completed(event: PaymentCompleted, uow: Transaction, delivery: Delivery) -> None:
    await _record_outcome(
        uow,
        payment_id=event.payment_id,
        status="COMPLETED",
        error_code=None,
        provider_txn_id=event.provider_txn_id,
        event=event,
        delivery=delivery,
    )


async def record_failed(event: PaymentFailed, uow: Transaction, delivery: Delivery) -> None:
    """A failed payment leaves the velocity sum (it still counts as an attempt)."""
    await _record_outcome(
        uow,
        payment_id=event.payment_id,
        status="FAILED",
        error_code=event.error_code,
        provider_txn_id=event.provider_txn_id,
        event=event,
        delivery=delivery,
    )


async def _record_outcome(
    uow: Transaction,
    *,
    payment_id: str,
    status: repository.Outcome,
    error_code: str | None,
    provider_txn_id: str | None,
    event: PaymentCompleted | PaymentFailed,
    delivery: Delivery,
) -> None:
    before = await repository.record_outcome(
        uow.conn,
        payment_id=payment_id,
        status=status,
        error_code=error_code,
        provider_txn_id=provider_txn_id,
        completed_at=event.completed_at,
    )
    if before is None:
        log.debug("antifraud.outcome_recorded", payment_id=payment_id, status=status, event_id=delivery.meta.id)
    elif before != status:
        log.warning(
            "antifraud.conflicting_outcome_ignored",
            payment_id=payment_id,
            stored=before,
            received=status,
            event_id=delivery.meta.id,
        )
