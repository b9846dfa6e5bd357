"""Project payment-events into the read model."""

from __future__ import annotations

from uuid import UUID

from paysaga.contracts.events import PaymentCompleted, PaymentFailed, PaymentInitiated
from paysaga.platform.consumer import Delivery
from paysaga.platform.unit_of_work import Transaction
from paysaga.services.query import repository


async def on_initiated(event: PaymentInitiated, uow: Transaction, delivery: Delivery) -> None:
    await repository.upsert_initiated(
        uow.conn,
        payment_id=UUID(event.payment_id),
        user_id=UUID(event.user_id),
        wallet_id=UUID(event.wallet_id),
        amount=event.amount,
        currency=event.currency,
        recipient=event.recipient.model_dump(by_alias=True),
        created_at=event.created_at,
    )


async def on_completed(event: PaymentCompleted, uow: Transaction, delivery: Delivery) -> None:
    await repository.upsert_final(
        uow.conn,
        payment_id=UUID(event.payment_id),
        status="COMPLETED",
        provider_txn_id=event.provider_txn_id,
        error_code=None,
        at=event.completed_at,
    )


async def on_failed(event: PaymentFailed, uow: Transaction, delivery: Delivery) -> None:
    await repository.upsert_final(
        uow.conn,
        payment_id=UUID(event.payment_id),
        status="FAILED",
        provider_txn_id=event.provider_txn_id,
        error_code=event.error_code,
        at=event.completed_at,
    )
