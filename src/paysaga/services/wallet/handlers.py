"""Wallet use cases: open, top up (→ WalletToppedUp), reserve (→ PaymentInitiated), commit, release."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import structlog

from paysaga.contracts.events import (
    CustomerCreated,
    Event,
    PaymentCompleted,
    PaymentFailed,
    PaymentInitiated,
    Recipient,
    WalletToppedUp,
)
from paysaga.platform.consumer import Delivery
from paysaga.platform.unit_of_work import Transaction, UnitOfWork
from paysaga.services.wallet import repository
from paysaga.services.wallet.domain import (
    Reservation,
    ReservationStatus,
    TopUpConflict,
    Wallet,
    WalletNotFound,
)

log = structlog.get_logger("paysaga.wallet")


async def open_wallet(event: CustomerCreated, uow: Transaction, delivery: Delivery) -> None:
    """CustomerCreated → the customer's wallet, once (a user has at most one wallet)."""
    created = await repository.create_wallet(
        uow.conn,
        wallet_id=uuid.uuid4(),
        user_id=UUID(event.user_id),
        currency=event.currency,
        created_at=event.created_at,
    )
    log.info(
        "wallet.opened" if created else "wallet.already_open",
        user_id=event.user_id,
        event_id=delivery.meta.id,
    )


@dataclass(frozen=True, slots=True)
class TopUp:
    top_up_id: UUID
    user_id: UUID
    amount: int


async def top_up(cmd: TopUp, uow: UnitOfWork) -> Wallet:
    """Credit the wallet once per top-up id (a simulated card top-up) and write WalletToppedUp, in one
    transaction: Core Banking journals every top-up, so its Customer funds mirror the wallets."""
    async with uow:
        wallet = await repository.lock_by_user(uow.conn, cmd.user_id)
        if wallet is None:
            raise WalletNotFound(f"user {cmd.user_id} has no wallet")
        existing = await repository.find_top_up(uow.conn, cmd.top_up_id)
        if existing is not None:
            if existing != (wallet.wallet_id, cmd.amount):
                raise TopUpConflict(f"top-up {cmd.top_up_id} was made with other details")
            return wallet
        movement = wallet.top_up(cmd.amount)
        now = datetime.now(UTC)
        await repository.insert_top_up(
            uow.conn,
            top_up_id=cmd.top_up_id,
            wallet_id=wallet.wallet_id,
            amount=cmd.amount,
            at=now,
        )
        wallet = await repository.apply_movement(uow.conn, wallet.wallet_id, movement, reference=cmd.top_up_id)
        uow.publish(
            WalletToppedUp(
                top_up_id=str(cmd.top_up_id),
                wallet_id=str(wallet.wallet_id),
                user_id=str(wallet.user_id),
                amount=cmd.amount,
                currency=wallet.currency,
                balance_after=wallet.balance,
                created_at=now,
            )
        )
        await uow.commit()
    log.info("wallet.topped_up", wallet_id=str(wallet.wallet_id), amount=cmd.amount)
    return wallet


@dataclass(frozen=True, slots=True)
class ReserveFunds:
    payment_id: UUID
    user_id: UUID
    amount: int
    currency: str
    recipient: dict[str, Any]  # camelCase: accountNumber, bankBic, name


async def reserve_funds(cmd: ReserveFunds, uow: UnitOfWork) -> tuple[Reservation, bool]:
    """Reserve the amount and write PaymentInitiated, in one transaction.

    Returns the reservation and whether it was made now (False: the same request again).
    Raises WalletNotFound, CurrencyMismatch, InsufficientFunds, ReservationConflict; nothing changes then.
    """
    async with uow:
        wallet = await repository.lock_by_user(uow.conn, cmd.user_id)
        if wallet is None:
            raise WalletNotFound(f"user {cmd.user_id} has no wallet")
        existing = await repository.find_reservation(uow.conn, cmd.payment_id)
        if existing is not None:
            existing.check_repeat(wallet.wallet_id, cmd.amount, cmd.currency, cmd.recipient)
            return existing, False
        movement = wallet.reserve(cmd.amount, cmd.currency)
        now = datetime.now(UTC)
        await repository.insert_reservation(
            uow.conn,
            payment_id=cmd.payment_id,
            wallet_id=wallet.wallet_id,
            amount=cmd.amount,
            currency=cmd.currency,
            recipient=cmd.recipient,
            created_at=now,
        )
        wallet = await repository.apply_movement(uow.conn, wallet.wallet_id, movement, reference=cmd.payment_id)
        uow.publish(
            PaymentInitiated(
                payment_id=str(cmd.payment_id),
                wallet_id=str(wallet.wallet_id),
                user_id=str(cmd.user_id),
                amount=cmd.amount,
                currency=cmd.currency,
                recipient=Recipient.model_validate(cmd.recipient),
                created_at=now,
            )
        )
        await uow.commit()
    log.debug("wallet.reserved", payment_id=str(cmd.payment_id), amount=cmd.amount, available=wallet.available)
    reservation = Reservation(
        payment_id=cmd.payment_id,
        wallet_id=wallet.wallet_id,
        amount=cmd.amount,
        currency=cmd.currency,
        recipient=cmd.recipient,
        status=ReservationStatus.RESERVED,
        created_at=now,
    )
    return reservation, True


class UnknownReservation(Exception):
    """A final payment event for a payment this wallet never reserved: dead-lettered for a human."""


async def _settle(uow: Transaction, payment_id: UUID, outcome: ReservationStatus) -> None:
    reservation = await repository.find_reservation(uow.conn, payment_id, lock=True)
    if reservation is None:
        raise UnknownReservation(f"no reservation for payment {payment_id}")
    movement = reservation.settle(outcome)
    if movement is None:  # already settled
        if reservation.status is not outcome:
            log.error(
                "wallet.conflicting_outcome",
                payment_id=str(payment_id),
                settled=reservation.status,
                incoming=outcome,
            )
        return
    wallet = await repository.apply_movement(uow.conn, reservation.wallet_id, movement, reference=payment_id)
    await repository.settle_reservation(uow.conn, payment_id, outcome)
    log.debug("wallet.settled", payment_id=str(payment_id), outcome=outcome, balance=wallet.balance)


async def lock_settled_wallets(tx: Transaction, events: Sequence[Event]) -> None:
    """Before a consumer batch's handlers: lock the wallets its settlements move, in one order. A batch
    settles payments of many wallets in one transaction; two instances' batches locking them in the
    order their records came deadlocked (2 Wallet instances at 80/s: batches rolled back and redone
    one record at a time, and a reservation caught in the cycle failed)."""
    payment_ids = [UUID(e.payment_id) for e in events if isinstance(e, PaymentCompleted | PaymentFailed)]
    if len(payment_ids) > 1:
        await repository.lock_wallets_of(tx.conn, payment_ids)


async def commit_reservation(event: PaymentCompleted, uow: Transaction, delivery: Delivery) -> None:
    """PaymentCompleted → the reserved money leaves the wallet."""
    await _settle(uow, UUID(event.payment_id), ReservationStatus.COMMITTED)


async def release_reservation(event: PaymentFailed, uow: Transaction, delivery: Delivery) -> None:
    """PaymentFailed → the reserved money is available again."""
    await _settle(uow, UUID(event.payment_id), ReservationStatus.RELEASED)
