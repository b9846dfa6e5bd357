"""Helpers of the Notification integration tests: payment events on Kafka, polling the database."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from paysaga.contracts.events import Event, PaymentCompleted, PaymentFailed, PaymentInitiated, Recipient
from paysaga.platform.db import Database
from tests.support.infra import Infra
from tests.support.kafka import produce_raw, publisher_meta


def initiated(*, amount: int = 150_000, user_id: str | None = None, payment_id: str | None = None) -> PaymentInitiated:
    return PaymentInitiated(
        payment_id=payment_id or str(uuid.uuid4()),
        wallet_id=str(uuid.uuid4()),
        user_id=user_id or str(uuid.uuid4()),
        amount=amount,
        currency="RUB",
        recipient=Recipient(account_number="40817810099910004312", bank_bic="044525225", name="Иван Петров"),
        created_at=datetime.now(UTC),
    )


def completed(payment_id: str) -> PaymentCompleted:
    return PaymentCompleted(
        payment_id=payment_id, provider_txn_id=f"txn-{uuid.uuid4()}", completed_at=datetime.now(UTC)
    )


def failed(payment_id: str, error_code: str) -> PaymentFailed:
    return PaymentFailed(
        payment_id=payment_id, provider_txn_id=None, error_code=error_code, completed_at=datetime.now(UTC)
    )


def publish(infra: Infra, event: Event, *, event_id: str | None = None) -> str:
    """Produce the event as the platform does: JSON payload, CloudEvents headers, keyed by paymentId."""
    event_id = event_id or str(uuid.uuid4())
    meta = publisher_meta(event, event_id)
    produce_raw(infra.kafka, event.topic, key=event.key, value=event.to_json(), headers=meta.to_headers())
    return event_id


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 30) -> bool:
    for _ in range(int(timeout / 0.1)):
        if await check():
            return True
        await asyncio.sleep(0.1)
    return await check()


async def rows(db: Database, payment_ids: list[str]) -> list[dict]:
    """The notifications of these payments, by payment then channel."""
    async with db.connection() as conn:
        found = await conn.fetch(
            "SELECT payment_id, channel, status, attempts, last_error, language, title, message"
            " FROM notifications WHERE payment_id = ANY($1::text[]) ORDER BY payment_id, channel",
            payment_ids,
        )
    return [dict(r) for r in found]


async def applied(db: Database, event_ids: list[str]) -> bool:
    """Every one of these events is in the inbox (the consumer committed it)."""
    async with db.connection() as conn:
        count = await conn.fetchval("SELECT count(*) FROM inbox WHERE event_id = ANY($1::text[])", event_ids)
    return count == len(set(event_ids))
