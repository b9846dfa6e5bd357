"""Core Banking use cases: post a top-up once, learn a payment's amount, post its payout once, reverse an entry.

Beyond the inbox (same `ce_id`), an event re-sent with a new id is caught by the data: one TOP_UP entry per
top-up (unique `(top_up_id, kind)`), one PAYOUT entry per payment (unique `(payment_id, kind)`), one
`known_payments` row per payment. A PaymentCompleted that arrives
before its PaymentInitiated waits in `unposted_completions` and is posted when the amount arrives; raising
TransientError instead would block the partition, for good if that PaymentInitiated never comes again.
"""

from __future__ import annotations

from datetime import UTC, datetime

import structlog

from paysaga.contracts.events import PaymentCompleted, PaymentInitiated, WalletToppedUp
from paysaga.platform.consumer import Delivery
from paysaga.platform.unit_of_work import Transaction, UnitOfWork
from paysaga.services.core_banking import repository
from paysaga.services.core_banking.domain import (
    AlreadyReversed,
    EntryKind,
    EntryNotFound,
    JournalEntry,
    PaymentConflict,
    TopUpConflict,
    payout_entry,
    reversal_entry,
    top_up_entry,
)
from paysaga.services.core_banking.repository import KnownPayment

log = structlog.get_logger("paysaga.core_banking")


async def _post_payout(
    uow: Transaction,
    payment: KnownPayment,
    *,
    provider_txn_id: str,
    completed_at: datetime,
    source_event_id: str,
) -> int | None:
    draft = payout_entry(
        payment_id=payment.payment_id,
        amount=payment.amount,
        currency=payment.currency,
        provider_txn_id=provider_txn_id,
        completed_at=completed_at,
        source_event_id=source_event_id,
    )
    entry_id = await repository.post(uow.conn, draft)
    if entry_id is None:
        log.info("ledger.payout_already_posted", payment_id=payment.payment_id, event_id=source_event_id)
    else:
        log.debug(
            "ledger.payout_posted",
            payment_id=payment.payment_id,
            entry_id=entry_id,
            amount=payment.amount,
            currency=payment.currency,
            event_id=source_event_id,
        )
    return entry_id


async def post_top_up(event: WalletToppedUp, uow: Transaction, delivery: Delivery) -> None:
    """WalletToppedUp → Dr Acquirer settlement / Cr Customer funds, once per top-up."""
    draft = top_up_entry(
        top_up_id=event.top_up_id,
        wallet_id=event.wallet_id,
        amount=event.amount,
        currency=event.currency,
        topped_up_at=event.created_at,
        source_event_id=delivery.meta.id,
    )
    entry_id = await repository.post(uow.conn, draft)
    if entry_id is not None:
        log.info(
            "ledger.top_up_posted",
            top_up_id=event.top_up_id,
            wallet_id=event.wallet_id,
            entry_id=entry_id,
            amount=event.amount,
            currency=event.currency,
            event_id=delivery.meta.id,
        )
        return
    # Journaled before (an event re-published with a new id): the same top-up must say the same.
    entries = await repository.entries_of_top_up(uow.conn, event.top_up_id)
    posted = next(e for e in entries if e.kind is EntryKind.TOP_UP)
    if set(posted.lines) != set(draft.lines):
        raise TopUpConflict(
            f"top-up {event.top_up_id} is journaled in entry {posted.entry_id} with other amounts,"
            f" WalletToppedUp {delivery.meta.id} says {event.amount} {event.currency}"
        )
    log.info("ledger.top_up_already_posted", top_up_id=event.top_up_id, event_id=delivery.meta.id)


async def record_payment(event: PaymentInitiated, uow: Transaction, delivery: Delivery) -> None:
    """PaymentInitiated → remember the amount; post a completion that was waiting for it."""
    await repository.lock_payment(uow.conn, event.payment_id)
    payment = KnownPayment(
        payment_id=event.payment_id,
        wallet_id=event.wallet_id,
        user_id=event.user_id,
        amount=event.amount,
        currency=event.currency,
        initiated_at=event.created_at,
    )
    if not await repository.insert_known_payment(uow.conn, payment):
        known = await repository.find_known_payment(uow.conn, event.payment_id)
        assert known is not None  # under the payment lock, and rows are never deleted
        if (known.amount, known.currency) != (payment.amount, payment.currency):
            # The same payment with another amount is a breach of the contract: dead-lettered for a human.
            raise PaymentConflict(
                f"payment {event.payment_id} is known as {known.amount} {known.currency},"
                f" PaymentInitiated {delivery.meta.id} says {payment.amount} {payment.currency}"
            )
        payment = known
    waiting = await repository.take_unposted_completion(uow.conn, event.payment_id)
    if waiting is not None:
        log.info("ledger.waiting_completion_found", payment_id=event.payment_id, event_id=waiting.source_event_id)
        await _post_payout(
            uow,
            payment,
            provider_txn_id=waiting.provider_txn_id,
            completed_at=waiting.completed_at,
            source_event_id=waiting.source_event_id,
        )


async def post_payout(event: PaymentCompleted, uow: Transaction, delivery: Delivery) -> None:
    """PaymentCompleted → Dr Customer funds / Cr Provider settlement, once per payment."""
    await repository.lock_payment(uow.conn, event.payment_id)
    if await repository.find_payout_entry(uow.conn, event.payment_id) is not None:
        log.info("ledger.payout_already_posted", payment_id=event.payment_id, event_id=delivery.meta.id)
        return
    payment = await repository.find_known_payment(uow.conn, event.payment_id)
    if payment is None:
        kept = await repository.keep_unposted_completion(
            uow.conn,
            payment_id=event.payment_id,
            provider_txn_id=event.provider_txn_id,
            completed_at=event.completed_at,
            source_event_id=delivery.meta.id,
        )
        log.warning(
            "ledger.completion_before_initiation" if kept else "ledger.completion_already_waiting",
            payment_id=event.payment_id,
            event_id=delivery.meta.id,
        )
        return
    await _post_payout(
        uow,
        payment,
        provider_txn_id=event.provider_txn_id,
        completed_at=event.completed_at,
        source_event_id=delivery.meta.id,
    )


async def reverse_entry(entry_id: int, reason: str, uow: UnitOfWork) -> JournalEntry:
    """Post the mirror of an entry (a correction); the original stays as it was.

    Raises EntryNotFound, AlreadyReversed, NotReversible (a reversal), InvalidEntry (no reason).
    """
    async with uow:
        original = await repository.find_entry(uow.conn, entry_id, lock=True)
        if original is None:
            raise EntryNotFound(f"no journal entry {entry_id}")
        draft = reversal_entry(original, reason=reason, at=datetime.now(UTC))
        reversal_id = await repository.post(uow.conn, draft)
        if reversal_id is None:  # the payment already has a reversal (of this entry: the lock makes it so)
            existing = await repository.find_entry(uow.conn, entry_id)
            raise AlreadyReversed(entry_id, (existing and existing.reversed_by_entry_id) or 0)
        reversal = await repository.find_entry(uow.conn, reversal_id)
        assert reversal is not None
        await uow.commit()
    log.info("ledger.entry_reversed", entry_id=entry_id, reversal_entry_id=reversal_id, payment_id=draft.payment_id)
    return reversal
