"""Wallet opens one wallet per customer, whatever the redeliveries."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from paysaga.contracts.cloudevents import EventMeta
from paysaga.contracts.events import CustomerCreated
from paysaga.platform.consumer import Delivery
from paysaga.platform.db import Database
from paysaga.platform.unit_of_work import UnitOfWork
from paysaga.services.wallet import handlers, repository
from tests.support.infra import Infra

pytestmark = pytest.mark.integration


async def test_two_customer_created_events_for_one_user_open_one_wallet(infra: Infra) -> None:
    db = Database(infra.dsns["wallet"])
    await db.connect()
    try:
        user_id = str(uuid.uuid4())
        event = CustomerCreated(user_id=user_id, currency="EUR", created_at=datetime.now(UTC))
        for _ in range(2):  # e.g. the customer service published twice (a relay crash after the send)
            meta = EventMeta(id=str(uuid.uuid4()), type="CustomerCreated", source="/test", time=datetime.now(UTC))
            async with UnitOfWork(db, source="/test") as uow:
                await handlers.open_wallet(event, uow, Delivery(meta, "customer-events", 0, 0, user_id))
                await uow.commit()
        async with db.connection() as conn:
            wallet = await repository.find_by_user(conn, uuid.UUID(user_id))
            count = await conn.fetchval("SELECT count(*) FROM wallets WHERE user_id = $1", uuid.UUID(user_id))
        assert count == 1
        assert wallet is not None and wallet.currency == "EUR" and wallet.available == 0
    finally:
        await db.close()
