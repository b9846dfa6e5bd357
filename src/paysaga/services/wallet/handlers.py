"""Wallet use cases."""

from __future__ import annotations

import uuid
from uuid import UUID

import structlog

from paysaga.contracts.events import CustomerCreated
from paysaga.platform.consumer import Delivery
from paysaga.platform.unit_of_work import UnitOfWork
from paysaga.services.wallet import repository

log = structlog.get_logger("paysaga.wallet")


async def open_wallet(event: CustomerCreated, uow: UnitOfWork, delivery: Delivery) -> None:
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
